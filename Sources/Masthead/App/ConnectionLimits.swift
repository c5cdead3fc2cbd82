import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one client may hold of the server: connections, time to send a request, bytes of body.
/// The defaults let a reader on a slow phone post a form and an editor upload a photo, and
/// stop a client that trickles bytes or opens connections it never uses.
public struct ConnectionLimits: Sendable, Equatable {
    public static let `default` = ConnectionLimits()

    /// Open connections at once; one more is answered 503 and closed.
    public var maximumConnections: Int
    /// From a request's first byte to the end of its head.
    public var headTimeout: TimeAmount
    /// From the end of a request's head to the end of its body.
    public var bodyTimeout: TimeAmount
    /// A connection with no request in progress is closed after this long.
    public var idleTimeout: TimeAmount
    /// Header fields in one request; more are answered 431.
    public var maximumHeaders: Int
    /// The body any route accepts: forms of a few fields.
    public var formBodyBytes: Int
    /// The body the admin accepts once the staff session is verified: an image upload and its form.
    public var staffBodyBytes: Int
    /// At shutdown, how long requests under way may take to finish before their connections are cut.
    public var drainTimeout: TimeAmount

    public init(
        maximumConnections: Int = 16_384, headTimeout: TimeAmount = .seconds(10), bodyTimeout: TimeAmount = .seconds(60),
        idleTimeout: TimeAmount = .seconds(75), maximumHeaders: Int = 100, formBodyBytes: Int = 64 * 1024,
        staffBodyBytes: Int? = nil, drainTimeout: TimeAmount = .seconds(25)
    ) {
        self.maximumConnections = maximumConnections
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maximumHeaders = maximumHeaders
        self.formBodyBytes = formBodyBytes
        self.staffBodyBytes = staffBodyBytes ?? MediaLibrary.maximumBytes + 1024 * 1024
        self.drainTimeout = drainTimeout
    }

    /// The connection cap this process can honour: the soft limit on open files is raised to the
    /// hard one, and the cap kept below it with room for the database and media files.
    func connectionsThisProcessCanHold() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return maximumConnections }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = Int(clamping: limit.rlim_cur) - 256
        return max(16, min(maximumConnections, available))
    }
}
