import Logging
import NIOCore
import NIOHTTP1

/// Cuts off clients that send a request too slowly (the "slowloris" attack): a new connection
/// must start a request within `headTimeout`, a request's head must be complete within
/// `headTimeout` of its first byte, and its body within `bodyTimeout` of its head. Trickling a
/// byte at a time no longer keeps a connection, as it would under an idle timeout alone.
/// Confined to its connection's event loop.
final class RequestDeadlines: @unchecked Sendable {
    private enum Phase {
        /// Accepted, nothing sent yet: closed without a word if it stays so.
        case opened
        case idle, head, body
    }

    private let limits: ConnectionLimits
    private let logger: Logger
    private let metrics: ServerMetrics
    private var phase = Phase.opened
    private var answering = false
    private var deadline = NIODeadline.distantFuture
    /// One timer per connection, armed lazily: a request only moves `deadline`, and the timer,
    /// when it fires early, re-arms for the deadline then current. Scheduling and cancelling a
    /// timer twice per request would cost the fast path a tenth of its speed.
    private var timer: Scheduled<Void>?
    private var armedFor = NIODeadline.distantFuture
    /// The watcher nearest the socket, through which a 408 goes out as raw bytes.
    fileprivate var socketSide: ChannelHandlerContext?

    init(limits: ConnectionLimits, logger: Logger, metrics: ServerMetrics) {
        self.limits = limits
        self.logger = logger
        self.metrics = metrics
    }

    fileprivate func connectionOpened() {
        start(.opened, after: limits.headTimeout)
    }

    /// Bytes arrived; the first of a request starts the clock for its head.
    fileprivate func bytesArrived() {
        guard phase == .idle || phase == .opened else { return }
        start(.head, after: limits.headTimeout)
    }

    fileprivate func headArrived() {
        start(.body, after: limits.bodyTimeout)
    }

    fileprivate func requestEnded() {
        phase = .idle
    }

    /// An answer is under way. The next request's bytes may already have arrived (pipelined),
    /// but they are not read on until it is written: their clock waits for it, or a 408 would
    /// overtake the answer the client is waiting for.
    func answerStarted() {
        answering = true
    }

    func answerFinished() {
        answering = false
        switch phase {
        case .head: start(.head, after: limits.headTimeout)
        case .body: start(.body, after: limits.bodyTimeout)
        case .opened, .idle: break
        }
    }

    fileprivate func connectionClosed() {
        phase = .idle
        timer?.cancel()
        timer = nil
        socketSide = nil
    }

    private func start(_ next: Phase, after timeout: TimeAmount) {
        phase = next
        deadline = .now() + timeout
        if timer == nil || deadline < armedFor { arm() }
    }

    private func arm() {
        guard let context = socketSide else { return }
        timer?.cancel()
        armedFor = deadline
        timer = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        armedFor = .distantFuture
        switch phase {
        case .idle:
            return
        case _ where NIODeadline.now() < deadline:
            arm()
        case .head where answering, .body where answering:
            deadline = .now() + limits.headTimeout
            arm()
        case .opened:
            context.close(promise: nil)
        case .head, .body:
            logger.notice("edge.refused", metadata: ["status": "408", "reason": phase == .head ? "head_timeout" : "body_timeout"])
            metrics.recordRefusal(.requestTimeout)
            context.writeAndFlush(NIOAny(EdgeRefusal.bytes(.requestTimeout))).whenComplete { _ in context.close(promise: nil) }
            // Closed in a moment whether or not the 408 could be written: a client that does
            // not read its answers must not hold the connection by not reading this one either.
            context.eventLoop.scheduleTask(in: .seconds(1)) { context.close(promise: nil) }
        }
    }
}

/// Sees the raw bytes before the HTTP decoder, to know when a request begins.
final class RequestStartWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let deadlines: RequestDeadlines

    init(deadlines: RequestDeadlines) {
        self.deadlines = deadlines
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadlines.socketSide = context
    }

    func channelActive(context: ChannelHandlerContext) {
        deadlines.connectionOpened()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadlines.bytesArrived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlines.connectionClosed()
        context.fireChannelInactive()
    }
}

/// Sees the decoded parts right after the HTTP decoder (before pipelined requests are held
/// back), to know when a head and a body are complete.
final class RequestProgressWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let deadlines: RequestDeadlines

    init(deadlines: RequestDeadlines) {
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headArrived()
        case .body: break
        case .end: deadlines.requestEnded()
        }
        context.fireChannelRead(data)
    }
}
