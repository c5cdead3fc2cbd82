import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection to the test server that sends exactly the bytes a test writes, for what an
/// HTTP client would never do: trickle a head, hold a connection idle, send a head without its body.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32
    /// Whether the last `receive` ended because the server closed the connection, rather than
    /// at its marker or its timeout: how a test tells "cut off" from "left hanging" without
    /// timing anything.
    private(set) var closedByServer = false

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestSupportError("connect() failed")
        }
    }

    convenience init(_ site: TestSite) throws {
        try self.init(port: Int(site.baseURL.split(separator: ":").last!)!)
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { buffer in
            Glibc.send(descriptor, buffer.baseAddress, buffer.count - 1, Int32(MSG_NOSIGNAL))
        }
    }

    /// What the server sends until it closes the connection, `until` appears, or `timeout` passes.
    /// The timeout is generous: a loaded machine may take seconds to answer, and a receive that
    /// ends at a close or a marker does not wait for it.
    func receive(until marker: String? = nil, timeout: Duration = .seconds(30)) async -> String {
        (try? await onOwnThread { self.receiveBlocking(until: marker, timeout: timeout) }) ?? ""
    }

    private func receiveBlocking(until marker: String?, timeout: Duration) -> String {
        let deadline = ContinuousClock.now + timeout
        var received = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        closedByServer = false
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { break }
            guard poller.revents != 0 else { continue }
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 {
                closedByServer = true
                break
            }
            received += chunk[0..<count]
            if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
