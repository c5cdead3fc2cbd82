import Foundation

/// A PostgreSQL primary and a streaming replica of it (physical replication, as `pg_basebackup
/// -R` sets it up), started for one test in a folder of their own, on free ports, so that the
/// test may pause the replica or stop the primary without touching the suite's shared database.
struct ReplicatedPostgres {
    let folder: URL
    let bin: String
    let primaryPort: Int
    let replicaPort: Int

    var primaryURL: String { "postgres://postgres@127.0.0.1:\(primaryPort)/postgres" }
    var replicaURL: String { "postgres://postgres@127.0.0.1:\(replicaPort)/postgres" }

    /// The newest installed server's programs.
    static var binDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }
        guard let newest = versions.max() else { return nil }
        let bin = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(bin)/initdb") ? bin : nil
    }

    static var available: Bool { ExternalTool.isRequired || binDirectory != nil }

    static func start() async throws -> ReplicatedPostgres {
        guard let bin = binDirectory else { throw TestSupportError("PostgreSQL's server programs are not installed") }
        let folder = URL(fileURLWithPath: "/tmp/masthead-replica-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // PostgreSQL refuses to run as root: the clusters belong to its own user.
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder.path) }
        let cluster = ReplicatedPostgres(folder: folder, bin: bin, primaryPort: try SharedCache.freePort(), replicaPort: try SharedCache.freePort())
        do {
            try await cluster.run("initdb", ["-D", cluster.path("primary"), "-A", "trust", "-U", "postgres"])
            try await cluster.startServer("primary", port: cluster.primaryPort, options: "-c wal_level=replica")
            try await cluster.run("pg_basebackup", ["-h", "127.0.0.1", "-p", "\(cluster.primaryPort)", "-U", "postgres", "-D", cluster.path("replica"), "-R", "-X", "stream"])
            try await cluster.startServer("replica", port: cluster.replicaPort, options: "-c hot_standby=on")
            return cluster
        } catch {
            await cluster.stop()
            throw error
        }
    }

    func stop() async {
        for name in ["replica", "primary"] { try? await stopServer(name) }
        try? FileManager.default.removeItem(at: folder)
    }

    func stopPrimary() async throws {
        try await stopServer("primary")
    }

    /// Runs SQL on the replica (to pause or resume its replay, say).
    func onReplica(_ sql: String) async throws {
        try await run("psql", ["-h", "127.0.0.1", "-p", "\(replicaPort)", "-U", "postgres", "-d", "postgres", "-Atc", sql])
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func startServer(_ name: String, port: Int, options: String) async throws {
        try await run("pg_ctl", [
            "-D", path(name), "-l", path("\(name).log"), "-w", "-t", "60",
            "-o", "-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories=\(folder.path) -c fsync=off \(options)", "start",
        ])
    }

    private func stopServer(_ name: String) async throws {
        try await run("pg_ctl", ["-D", path(name), "-m", "fast", "-w", "stop"])
    }

    /// Runs one of PostgreSQL's programs, its output in a file, through Python's subprocess,
    /// which closes every other descriptor in the child: the server `pg_ctl` starts keeps what it
    /// was given, and Foundation's `Process` waits for an end of its own it would then never see.
    private func run(_ program: String, _ arguments: [String]) async throws {
        let executable = program == "psql" ? (ExternalTool.find("psql") ?? "\(bin)/psql") : "\(bin)/\(program)"
        let output = folder.appendingPathComponent("\(program)-\(UUID().uuidString.prefix(6)).out").path
        let command = (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [executable] + arguments
        let launcher = "import subprocess, sys; out = open(sys.argv[1], 'w'); sys.exit(subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=out))"
        let result = try await ExternalTool.run("python3", ["-c", launcher, output] + command)
        guard result.status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw TestSupportError("\(program) failed: \(text.suffix(500))")
        }
    }
}
