import Foundation

/// PostgreSQL's own client programs (`pg_dump`, `pg_restore`, `psql`), which make and load
/// consistent dumps better than anything written here could. They are looked for in
/// `MASTHEAD_POSTGRES_BIN`, then on the `PATH`. The connection is handed over in `PG*`
/// variables, never on the command line, where any user of the machine could read the password.
struct PostgresTools: Sendable {
    let environment: [String: String]
    let searchPath: [String]

    init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw BackupError("MASTHEAD_DATABASE_URL is not a valid PostgreSQL URL")
        }
        // The URL alone says where to connect: a PGSERVICE or PGPASSFILE of the operator's must
        // not send the dump elsewhere. Certificate settings (PGSSLROOTCERT and the like) stay.
        var connection = environment.filter { !$0.key.hasPrefix("PG") || $0.key.hasPrefix("PGSSL") }
        connection["PGHOST"] = host
        connection["PGPORT"] = String(components.port ?? 5432)
        // URLComponents has already decoded these.
        connection["PGUSER"] = components.user ?? ""
        connection["PGPASSWORD"] = components.password ?? ""
        connection["PGDATABASE"] = String(components.path.drop { $0 == "/" })
        let libpqModes: Set = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
        for item in components.queryItems ?? [] where ["sslmode", "tlsmode"].contains(item.name) {
            connection["PGSSLMODE"] = item.value.flatMap { libpqModes.contains($0) ? $0 : nil } ?? "require"
        }
        self.environment = connection
        searchPath = [environment["MASTHEAD_POSTGRES_BIN"]].compactMap { $0 } + (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    }

    /// A consistent dump of the whole database as it stood when the dump began, while it serves.
    func dump(to path: String) async throws {
        // A dump waits at most a minute for a table another session holds exclusively (a
        // migration), rather than queueing every query behind it.
        try await ExternalProgram(try locate("pg_dump"), ["--format=custom", "--no-owner", "--no-privileges", "--lock-wait-timeout=60000", "--file=\(path)"], environment: environment).run()
    }

    /// Replaces everything in the database's `public` schema with the dump, in one transaction:
    /// if any statement fails, the database is left as it was. The dump is turned into SQL in a
    /// file first, so that a `pg_restore` that fails half way can never feed `psql` half a script
    /// that it would then commit.
    func load(_ path: String) async throws {
        // The script holds the whole database: in a folder only its owner can open.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-restore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = (folder as NSString).appendingPathComponent("restore.sql")
        try await ExternalProgram(try locate("pg_restore"), ["--no-owner", "--no-privileges", "--file=\(script)", path], environment: environment).run()
        try await ExternalProgram(try locate("psql"), [
            "--quiet", "--no-psqlrc", "--single-transaction", "--set=ON_ERROR_STOP=1",
            "--command=DROP SCHEMA IF EXISTS public CASCADE", "--command=CREATE SCHEMA public", "--file=\(script)",
        ], environment: environment).run()
    }

    private func locate(_ program: String) throws -> String {
        for folder in searchPath {
            let path = (folder as NSString).appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw BackupError("\(program) was not found: install PostgreSQL's client programs, or set MASTHEAD_POSTGRES_BIN to the folder that holds them")
    }
}

/// A program run to its end, its errors kept for the message if it fails.
struct ExternalProgram: Sendable {
    let path: String
    let arguments: [String]
    let environment: [String: String]

    init(_ path: String, _ arguments: [String], environment: [String: String]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
    }

    func run() async throws {
        let process = make()
        let errors = try ErrorCapture()
        process.standardError = errors.handle
        process.standardOutput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in done.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                done.resume(throwing: error)
            }
        }
        guard process.terminationStatus == 0 else {
            let name = (path as NSString).lastPathComponent
            throw BackupError("\(name) failed (exit \(process.terminationStatus)): \(errors.lastLine() ?? "no message")")
        }
    }

    private func make() -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        return process
    }
}

/// A program's standard error, in a temporary file rather than a pipe that could fill and stall it.
private final class ErrorCapture: @unchecked Sendable {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-\(UUID().uuidString).err")
    let handle: FileHandle

    init() throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
    }

    func lastLine() -> String? {
        try? handle.close()
        defer { try? FileManager.default.removeItem(at: url) }
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map { String($0.prefix(300)) }
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}
