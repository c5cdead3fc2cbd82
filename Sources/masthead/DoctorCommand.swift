import ArgumentParser
import Masthead

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this deployment: folders, theme, public URL, secret, billing keys, mail, database, migrations, clock and the running instances.",
        discussion: "Reads and connects, changes nothing. Exits 1 when it finds a problem."
    )

    func run() async throws {
        let findings = await Doctor(settings: try Settings.fromEnvironment()).examine()
        for finding in findings {
            let label = finding.verdict.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            Terminal.say("\(label) \(finding.subject): \(finding.detail)")
        }
        let problems = findings.filter { $0.verdict == .problem }.count
        let warnings = findings.filter { $0.verdict == .warning }.count
        guard problems == 0 else {
            Terminal.fail("\(problems) problem\(problems == 1 ? "" : "s") found (\(warnings) warning\(warnings == 1 ? "" : "s"))")
        }
        Terminal.say(warnings == 0 ? "All good." : "No problems; \(warnings) warning\(warnings == 1 ? "" : "s").")
    }
}
