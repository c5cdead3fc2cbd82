import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A shared cache in front of a test site, configured from the repository's `deploy/` folder as
/// an operator would use it: nginx with its proxy cache, or Varnish purged through xkey. Each
/// runs in the foreground, on a free port on 127.0.0.1, in a folder of its own.
final class SharedCache: @unchecked Sendable {
    let url: String
    private let process: Process
    private let folder: URL
    /// The test runner starts processes with most signals blocked, which nginx undoes and
    /// Varnish does not: Varnish is stopped with SIGKILL, which cannot be blocked (its worker
    /// process ends with its manager).
    private let stopSignal: Int32

    private init(url: String, process: Process, folder: URL, stopSignal: Int32) {
        self.url = url
        self.process = process
        self.folder = folder
        self.stopSignal = stopSignal
    }

    static let deploy = TestSettings.repositoryRoot.appendingPathComponent("deploy")

    static func executable(_ name: String) -> String? {
        ExternalTool.find(name) ?? ["/usr/sbin/\(name)", "/usr/local/sbin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var available: Bool { ExternalTool.isRequired || (executable("nginx") != nil && executable("varnishd") != nil) }

    /// nginx with the deploy folder's proxy settings, in front of the site on `upstreamPort`.
    static func nginx(upstreamPort: Int) async throws -> SharedCache {
        let folder = try makeFolder("nginx")
        let port = try freePort()
        let nginx = deploy.appendingPathComponent("nginx").path
        let configuration = """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            worker_processes 1;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi;
                uwsgi_temp_path \(folder.path)/uwsgi;
                scgi_temp_path \(folder.path)/scgi;
                include \(nginx)/masthead-signed-in.conf;
                upstream masthead { server 127.0.0.1:\(upstreamPort); keepalive 8; }
                proxy_cache_path \(folder.path)/cache levels=1:2 keys_zone=masthead:10m;
                server {
                    listen 127.0.0.1:\(port);
                    location / { include \(nginx)/masthead-proxy.conf; }
                }
            }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        return try await start(try require("nginx"), ["-c", file.path, "-p", folder.path], port: port, folder: folder, stopSignal: SIGTERM)
    }

    /// Varnish with the deploy folder's VCL on `port` for readers and `purgePort` for purges,
    /// both its backends pointed at the site on `upstreamPort`.
    static func varnish(upstreamPort: Int, port: Int, purgePort: Int) async throws -> SharedCache {
        let folder = try makeFolder("varnish")
        let vcl = try String(contentsOf: deploy.appendingPathComponent("varnish/masthead.vcl"), encoding: .utf8)
            .replacingOccurrences(of: "\"8081\"", with: "\"\(upstreamPort)\"")
            .replacingOccurrences(of: "\"8082\"", with: "\"\(upstreamPort)\"")
        let file = folder.appendingPathComponent("masthead.vcl")
        try vcl.write(to: file, atomically: true, encoding: .utf8)
        return try await start(
            try require("varnishd"), ["-F", "-a", "127.0.0.1:\(port)", "-a", "purge=127.0.0.1:\(purgePort)", "-f", file.path, "-n", folder.appendingPathComponent("state").path, "-s", "malloc,32m"],
            port: port, folder: folder, stopSignal: SIGKILL
        )
    }

    func stop() async {
        if process.isRunning { kill(process.processIdentifier, stopSignal) }
        await process.exited()
        try? FileManager.default.removeItem(at: folder)
    }

    private static func require(_ name: String) throws -> String {
        guard let path = executable(name) else { throw TestSupportError("\(name) is not installed") }
        return path
    }

    private static func makeFolder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    private static func start(_ executable: String, _ arguments: [String], port: Int, folder: URL, stopSignal: Int32) async throws -> SharedCache {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = folder.appendingPathComponent("output.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let cache = SharedCache(url: "http://127.0.0.1:\(port)", process: process, folder: folder, stopSignal: stopSignal)
        for _ in 0..<100 {
            if try await onOwnThread({ accepts(port) }) { return cache }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        await cache.stop()
        throw TestSupportError("\(executable) did not start: \(said.suffix(500))")
    }

    private static func accepts(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nobody listens on now: bound to port 0, read back, and let go.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestSupportError("no socket") }
        defer { close(socket) }
        var address = loopback(0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("cannot bind a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return address
    }
}
