import Foundation

/// Dates and times as the newsroom reads and types them in the admin: in the site's time zone
/// (Settings), with the zone named, so "publish at 07:00" means 07:00 where the editors are.
struct AdminClock {
    let timeZone: TimeZone

    /// The zone as labels show it: `Asia/Beirut`, or `GMT`.
    var zoneName: String { timeZone.identifier }

    private var style: Date.FormatStyle {
        Date.FormatStyle(date: .long, time: .shortened, locale: Locale(identifier: "en_GB"), timeZone: timeZone)
    }

    func dayAndTime(_ date: Date) -> String {
        date.formatted(style) + " " + (timeZone.abbreviation(for: date) ?? zoneName)
    }

    func day(_ date: Date) -> String {
        date.formatted(Date.FormatStyle(date: .long, time: .omitted, locale: Locale(identifier: "en_GB"), timeZone: timeZone))
    }

    /// The value of a `datetime-local` field, which carries no zone of its own.
    func localInput(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(format: Self.inputFormat, timeZone: timeZone, calendar: Calendar(identifier: .gregorian)))
    }

    func parseLocalInput(_ text: String) -> Date? {
        try? Date(String(text.trimmingCharacters(in: .whitespaces).prefix(16)), strategy: Date.ParseStrategy(format: Self.inputFormat, timeZone: timeZone))
    }

    /// The end of the day a `date` field names (`2027-06-30`), in the newsroom's zone: access
    /// "until 30 June" lasts all of 30 June.
    func parseEndOfDay(_ text: String) -> Date? {
        let format: Date.FormatString = "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)"
        guard let start = try? Date(String(text.trimmingCharacters(in: .whitespaces).prefix(10)), strategy: Date.ParseStrategy(format: format, timeZone: timeZone)) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(byAdding: .day, value: 1, to: start)
    }

    private static let inputFormat: Date.FormatString = "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)T\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)"
}
