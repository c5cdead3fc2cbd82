import ArgumentParser
import Masthead

/// Parses the command line and reports any failure as one line, never a stack trace.
@main
enum Entry {
    static func main() async {
        MastheadApp.runConcurrencyOnEventLoops()
        do {
            try LogFormat.fromEnvironment().bootstrap()
        } catch {
            Terminal.fail("\(error)")
        }
        do {
            var command = try MastheadCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as StartupError {
            Terminal.fail(error.description)
        } catch let error as SettingsError {
            Terminal.fail(error.description)
        } catch let error as ThemeError {
            Terminal.fail(error.description)
        } catch let error as StaffAccountError {
            Terminal.fail(error.description)
        } catch let error as StripePlanSync.Failure {
            Terminal.fail(error.description)
        } catch let error as NewsletterOperations.Failure {
            Terminal.fail(error.description)
        } catch let error as DKIMError {
            Terminal.fail(error.description)
        } catch let error as SearchMaintenance.Failure {
            Terminal.fail(error.description)
        } catch let error as BackupError {
            Terminal.fail(error.description)
        } catch let error as ImportError {
            Terminal.fail(error.description)
        } catch {
            if MastheadCommand.exitCode(for: error) == .success {
                Terminal.say(MastheadCommand.fullMessage(for: error))
            } else {
                Terminal.fail(MastheadCommand.message(for: error))
            }
        }
    }
}
