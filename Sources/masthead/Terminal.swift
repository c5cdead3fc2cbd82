import Foundation

/// What the CLI says to the person running it: results on standard output,
/// problems as one line on standard error. Logs go through swift-log instead.
enum Terminal {
    /// One line, without control characters: report lines quote files that could carry
    /// escape sequences meant for the operator's terminal.
    static func say(_ line: String) {
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: line.unicodeScalars.filter { $0 == "\n" || $0.properties.generalCategory != .control })
        FileHandle.standardOutput.write(Data((String(kept) + "\n").utf8))
    }

    static func write(_ data: Data) {
        FileHandle.standardOutput.write(data)
    }

    /// A progress bar on one line, redrawn in place: `[#######-------] 3/7 Yearly, USD`.
    static func progress(done: Int, total: Int, label: String) {
        guard total > 0 else { return }
        let width = 24, filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        write(Data("\r[\(bar)] \(done)/\(total) \(label)\u{1B}[K\(done == total ? "\n" : "")".utf8))
    }

    static func fail(_ reason: String) -> Never {
        let line = reason.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? reason
        FileHandle.standardError.write(Data("masthead: \(line)\n".utf8))
        exit(1)
    }
}
