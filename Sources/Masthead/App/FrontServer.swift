import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Vapor

/// Masthead's HTTP/1.1 server: the edge every request crosses. It holds clients to the
/// `ConnectionLimits`, works out who the client is behind the trusted proxies, answers what the
/// `FastPath` can answer from memory, and hands every other request to Vapor's responder.
///
/// Why not Vapor's own server: profiling the cached article page showed nine tenths of the
/// time in Vapor's per-request machinery (request object, route lookup with percent-decoding,
/// request id, middleware futures), which a page already rendered does not need.
final class FrontServer: Server, Sendable {
    /// What the edge asks of the rest of Masthead, as decisions rather than other domains' constants.
    struct Services: Sendable {
        let limits: ConnectionLimits
        let proxies: TrustedProxies
        let fastPath: any FastPath
        /// Files sent from disk (the media folder).
        let files: any FileResponder
        /// The most a request may send, at most `limits.staffBodyBytes`: asked only when its
        /// body would exceed the form limit, before a byte of it is buffered.
        let largeBodyAllowance: @Sendable (HTTPRequestHead) async -> Int
        let metrics: ServerMetrics
        /// Requests handed to the application whose answer has not come back yet.
        let underWay = RequestsUnderWay()
    }

    /// Asks a connection to finish the request under way, if any, and close.
    struct Drain {}

    private let application: Application
    private let services: Services
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    /// Open connections, closed on shutdown so no request reaches an application that has stopped.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private let stopped = NIOLockedValueBox(false)
    private let shutdownPromise: EventLoopPromise<Void>

    init(application: Application, services: Services) {
        self.application = application
        self.services = services
        shutdownPromise = application.eventLoopGroup.any().makePromise()
    }

    var onShutdown: EventLoopFuture<Void> { shutdownPromise.futureResult }

    var localAddress: SocketAddress? { channel.withLockedValue { $0?.localAddress } }

    func start(address: BindAddress?) throws {
        fatalError("FrontServer is started with its async start(address:)")
    }

    func start(address: BindAddress?) async throws {
        let configuration = application.http.server.configuration
        let host: String, port: Int
        switch address {
        case .hostname(let hostname, let boundPort):
            host = hostname ?? configuration.hostname
            port = boundPort ?? configuration.port
        case .unixDomainSocket, nil:
            host = configuration.hostname
            port = configuration.port
        }
        let application = application, services = services, connections = connections
        // Vapor builds its router afresh each time `application.responder` is asked (its own
        // server asks once, at start); so does this one, or every routed request would pay for it.
        let responder = application.responder.current
        let cap = services.limits.connectionsThisProcessCanHold()
        let stopped = stopped
        let bound = try await ServerBootstrap(group: application.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                // Taken with the shutdown's own lock order (connections, then stopped), so a
                // connection is either in the shutdown's list, and drained, or refused here.
                let admitted = connections.withLockedValue { open -> Bool? in
                    // Accepted in the moment the listener was closing: another instance will answer.
                    guard !stopped.withLockedValue({ $0 }) else { return nil }
                    guard open.count < cap else { return false }
                    open[id] = channel
                    return true
                }
                guard let admitted else { return channel.close() }
                guard admitted else {
                    application.logger.notice("edge.refused", metadata: ["status": "503", "reason": "connection_cap"])
                    services.metrics.connectionsRefused.increment()
                    return channel.pipeline.addHandler(EdgeRefusal(status: .serviceUnavailable))
                }
                channel.closeFuture.whenComplete { _ in connections.withLockedValue { _ = $0.removeValue(forKey: id) } }
                return Self.configure(channel, application: application, responder: responder, services: services)
            }
            .bind(host: host, port: port)
            .get()
        channel.withLockedValue { $0 = bound }
    }

    /// NIO's HTTP/1.1 request decoder between the deadline watchers (one sees a request's first
    /// byte, the other the end of its head and body), then `FrontHandler`, which writes its
    /// answers as bytes: a cached page's head is made ready once, not encoded per answer.
    private static func configure(_ channel: any Channel, application: Application, responder: any Responder, services: Services) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let deadlines = RequestDeadlines(limits: services.limits, logger: application.logger, metrics: services.metrics)
            let handlers = channel.pipeline.syncOperations
            try handlers.addHandler(IdleStateHandler(readTimeout: services.limits.idleTimeout))
            try handlers.addHandler(RequestStartWatcher(deadlines: deadlines))
            try handlers.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try handlers.addHandler(RequestProgressWatcher(deadlines: deadlines))
            try handlers.addHandler(FrontHandler(application: application, responder: responder, services: services, deadlines: deadlines))
        }
    }

    func shutdown() {
        guard let (listener, open) = beginShutdown() else { return }
        listener?.close(promise: nil)
        open.forEach { $0.close(promise: nil) }
        shutdownPromise.succeed(())
    }

    /// Stops taking connections, lets the requests under way finish (each answer then closes its
    /// connection; idle connections and event streams close at once, and their clients go to
    /// another instance), and after `ConnectionLimits.drainTimeout` cuts whatever is left.
    func shutdown() async {
        guard let (listener, open) = beginShutdown() else { return }
        try? await listener?.close().get()
        for connection in open { connection.pipeline.fireUserInboundEventTriggered(Drain()) }
        let deadline = ContinuousClock.now + .nanoseconds(services.limits.drainTimeout.nanoseconds)
        while ContinuousClock.now < deadline, openConnections > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = connections.withLockedValue { Array($0.values) }
        if !left.isEmpty {
            application.logger.warning("server.drain_timeout", metadata: ["connections": "\(left.count)"])
        }
        for connection in left { try? await connection.close().get() }
        // A handler runs on when its connection is cut, and may be using the database: the
        // application shuts down only once every one has answered.
        await services.underWay.waitUntilNone(warningAfter: deadline, logger: application.logger)
        shutdownPromise.succeed(())
    }

    var openConnections: Int { connections.withLockedValue { $0.count } }

    var drainTimeout: TimeAmount { services.limits.drainTimeout }

    /// The channels to close, once: a second shutdown finds nothing to do. No connection is
    /// admitted once the list is taken (see `start`).
    private func beginShutdown() -> ((any Channel)?, [any Channel])? {
        let open = connections.withLockedValue { open -> [any Channel]? in
            let first = stopped.withLockedValue { stopped in
                defer { stopped = true }
                return !stopped
            }
            return first ? Array(open.values) : nil
        }
        guard let open else { return nil }
        let listener = channel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        return (listener, open)
    }
}

/// What the front server may answer from memory, before routing and without a task.
protocol FastPath: Sendable {
    /// The answer to a complete request, or nil to let Vapor answer it.
    func answer(_ head: HTTPRequestHead, client: RequestClient) -> ReadyAnswer?
}

/// An answer whose body, if any, is part of an open file, sent without reading it into memory.
struct FileAnswer: @unchecked Sendable {
    let status: HTTPResponseStatus
    var headers: HTTPHeaders
    var file: NIOFileHandle?
    var bytes: Range<Int> = 0..<0
}

/// What the front server sends from disk, opened off the event loop.
protocol FileResponder: Sendable {
    /// The file's answer, nil inside the future when there is no such file (the router then
    /// answers with its 404 page), or nil outright when the request is not for a file.
    func answer(_ head: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<FileAnswer?>?
}

/// One connection: collects each request within its body allowance, answers it from the fast
/// path or through Vapor, and writes the response as bytes itself. Requests a client pipelines
/// are answered one at a time and in order: while one is answered, later ones wait in a queue
/// and the connection is not read.
final class FrontHandler: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Body {
        case collecting(limit: Int)
        /// Waiting to hear whether the large allowance applies; reads are held meanwhile.
        case checkingAllowance
        /// Refused: the rest of the body is not read, and the connection closes after the answer.
        case refused
    }

    private let application: Application
    private let responder: any Responder
    private let services: FrontServer.Services
    private let deadlines: RequestDeadlines
    private var head: HTTPRequestHead?
    private var client = RequestClient(address: "unknown", isHTTPS: false)
    private var body: ByteBuffer?
    private var bodyState = Body.collecting(limit: 0)
    private var endReceived = false
    /// A complete request is being answered: what arrives meanwhile waits in `pipelined`.
    private var answering = false
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var takingFromQueue = false
    /// The channel asked for more bytes while reads were held.
    private var readPending = false
    /// After a refusal, or a request NIO could not parse, nothing more is read from the client.
    private var discarding = false
    /// The answer under way is the connection's last: it says `Connection: close`, nothing
    /// queued behind it is answered, and nothing more is read (RFC 9112 §9.6). Set by a request
    /// NIO could not parse, a flood of pipelined requests, or a request that ends HTTP/1.1 on
    /// the connection (CONNECT, Upgrade).
    private var closeAfterAnswer = false
    /// Parts of pipelined requests held at most: a few dozen requests.
    private static let pipelinedPartsLimit = 100
    /// A complete request waiting for the client to read what it was already sent.
    private var waitingForWritability: (() -> Void)?
    /// An event stream holds the connection: written as its events come, idle reads allowed,
    /// ended when either side goes.
    private var eventStream: Task<Void, Never>?
    /// The server is shutting down: the answer under way is the connection's last.
    private var draining = false
    /// When the request being answered began, and the route it is counted under.
    private var requestStarted = NIODeadline.now()
    private var route = ServerMetrics.EdgeRoute.unmatched
    private var series: [ServerMetrics.RequestKind: ServerMetrics.RequestSeries] = [:]

    init(application: Application, responder: any Responder, services: FrontServer.Services, deadlines: RequestDeadlines) {
        self.application = application
        self.responder = responder
        self.services = services
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !discarding else { return }
        let part = unwrapInboundIn(data)
        if answering || !pipelined.isEmpty {
            guard !closeAfterAnswer else { return }
            guard pipelined.count < Self.pipelinedPartsLimit else {
                // No browser pipelines; a client that sends this many unanswered requests at
                // once is flooding, and gets the answer under way, then the end of the connection.
                application.logger.notice("edge.refused", metadata: ["status": "close", "reason": "pipelined_flood", "client": "\(client.address)"])
                pipelined.removeAll()
                closeAfterAnswer = true
                return
            }
            pipelined.append(part)
        } else {
            receive(part, context: context)
        }
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let requestHead):
            head = requestHead
            body = nil
            endReceived = false
            requestStarted = .now()
            route = ServerMetrics.EdgeRoute.unmatched
            client = services.proxies.client(peer: context.channel.remoteAddress?.ipAddress, headers: requestHead.headers)
            // Browsers send a few dozen headers; thousands only make every header search slow.
            guard requestHead.headers.count <= services.limits.maximumHeaders else {
                return refuse(.requestHeaderFieldsTooLarge, context: context)
            }
            // NIO's decoder stops parsing after a request that would switch protocols, and
            // Masthead switches to none: such a request is the connection's last.
            if requestHead.method == .CONNECT || requestHead.headers.contains(name: .upgrade) {
                closeAfterAnswer = true
                pipelined.removeAll()
            }
            decideBodyAllowance(for: requestHead, context: context)
        case .body(var chunk):
            switch bodyState {
            case .refused:
                return
            case .checkingAllowance:
                if (body?.readableBytes ?? 0) + chunk.readableBytes > services.limits.staffBodyBytes {
                    refuse(.payloadTooLarge, context: context)
                } else {
                    append(&chunk)
                }
            case .collecting(let limit):
                if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                    refuse(.payloadTooLarge, context: context)
                } else {
                    append(&chunk)
                }
            }
        case .end:
            endReceived = true
            answering = true
            deadlines.answerStarted()
            if case .collecting = bodyState { respondWhenWritable(context: context) }
        }
    }

    private func append(_ chunk: inout ByteBuffer) {
        if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
    }

    /// RFC 9110 §10.1.1: a client that asked to `Expect: 100-continue` is told to go on only
    /// once its body is accepted; a body declared too large is refused before any of it is read.
    private func decideBodyAllowance(for head: HTTPRequestHead, context: ChannelHandlerContext) {
        let formLimit = services.limits.formBodyBytes
        let declared = head.headers.first(name: .contentLength).flatMap(Int.init)
        let mayExceedForm = declared.map { $0 > formLimit } ?? head.headers.contains(name: .transferEncoding)
        guard mayExceedForm else {
            bodyState = .collecting(limit: formLimit)
            sendContinueIfExpected(head, context: context)
            return
        }
        if let declared, declared > services.limits.staffBodyBytes {
            return refuse(.payloadTooLarge, context: context)
        }
        bodyState = .checkingAllowance
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let ask = services.largeBodyAllowance, underWay = services.underWay
        guard underWay.begin() else { return refuse(.serviceUnavailable, context: context) }
        context.eventLoop.makeFutureWithTask {
            defer { underWay.end() }
            return await ask(head)
        }.whenSuccess { allowance in
            let (handler, context) = loopBound.value
            handler.allowanceDecided(allowance, head: head, context: context)
        }
    }

    private func allowanceDecided(_ allowance: Int, head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .checkingAllowance = bodyState, self.head == head else { return }
        let limit = min(max(allowance, services.limits.formBodyBytes), services.limits.staffBodyBytes)
        let declared = head.headers.first(name: .contentLength).flatMap(Int.init)
        guard (body?.readableBytes ?? 0) <= limit, (declared ?? 0) <= limit else {
            return refuse(.payloadTooLarge, context: context)
        }
        bodyState = .collecting(limit: limit)
        sendContinueIfExpected(head, context: context)
        if endReceived {
            respondWhenWritable(context: context)
        } else {
            resumeReading(context: context)
        }
    }

    private func sendContinueIfExpected(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard (head.version.major, head.version.minor) >= (1, 1), head.headers[canonicalForm: "Expect"].contains(where: { $0.lowercased() == "100-continue" }) else {
            return
        }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(HTTPWire.continueLine(version: head.version))), promise: nil)
    }

    /// Answers at once and ends the connection: the body that was not read cannot be told from
    /// a next request. What the client still sends is read and dropped for a moment (a lingering
    /// close), so that closing with unread bytes does not reset the connection before the
    /// client has read the answer.
    private func refuse(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        guard let requestHead = head else { return }
        bodyState = .refused
        body = nil
        discarding = true
        route = ServerMetrics.EdgeRoute.refused
        pipelined.removeAll()
        application.logger.notice("edge.refused", metadata: ["status": "\(status.code)", "client": "\(client.address)", "path": "\(requestHead.uri.prefix { $0 != "?" }.prefix(200))"])
        var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")])
        SecurityHeadersMiddleware.apply(to: &headers)
        let answer = (status, headers, ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n"))
        write(answer, for: requestHead, context: context).whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
        // Closed in any case, also when the client reads nothing and the answer never leaves.
        context.eventLoop.scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
        resumeReading(context: context)
    }

    /// Holds a finished request while the client has not read earlier answers, so a client that
    /// pipelines requests but never reads cannot make the server queue answers without bound.
    private func respondWhenWritable(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            waitingForWritability = { [unowned self] in respond(context: context) }
            return
        }
        respond(context: context)
    }

    private func respond(context: ChannelHandlerContext) {
        guard let requestHead = head else { return }
        head = nil
        let requestBody = body
        body = nil
        if let answer = services.fastPath.answer(requestHead, client: client) {
            route = ServerMetrics.EdgeRoute.cachedPage
            write(answer, for: requestHead, context: context)
        } else if let file = services.files.answer(requestHead, on: context.eventLoop) {
            route = ServerMetrics.EdgeRoute.media
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            file.whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let answer?):
                    handler.write(answer, for: requestHead, context: context)
                case .success(nil):
                    handler.route = ServerMetrics.EdgeRoute.unmatched
                    handler.respondThroughVapor(requestHead, body: nil, context: context)
                case .failure(let error):
                    handler.application.logger.error("media.failed", metadata: ["error": "\(error)"])
                    handler.write((.internalServerError, [:], nil), for: requestHead, context: context)
                }
            }
        } else {
            respondThroughVapor(requestHead, body: requestBody, context: context)
        }
    }

    /// The answer is written: the next pipelined request, if any, is taken from the queue, and
    /// once none is left waiting the connection is read again.
    private func answerWritten(context: ChannelHandlerContext) {
        answering = false
        deadlines.answerFinished()
        guard !discarding, !closeAfterAnswer, !takingFromQueue else { return }
        takingFromQueue = true
        while !answering, !discarding, let part = pipelined.popFirst() {
            receive(part, context: context)
        }
        takingFromQueue = false
        resumeReading(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let waiting = waitingForWritability {
            waitingForWritability = nil
            waiting()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        guard readsAllowed else {
            readPending = true
            return
        }
        context.read()
    }

    /// Reads wait while a request is answered or queued, and while the body's allowance is asked.
    private var readsAllowed: Bool {
        if case .checkingAllowance = bodyState { return false }
        return discarding || (!closeAfterAnswer && !answering && pipelined.isEmpty)
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readPending, readsAllowed else { return }
        readPending = false
        context.read()
    }

    /// Vapor's request takes its id, which every log line of the request carries, from
    /// `X-Request-Id`: believed only from a trusted proxy (nginx's `$request_id`, so that the
    /// proxy's log and Masthead's name a request alike), and made afresh otherwise. The answer
    /// names it, for a reader reporting a failure.
    private func respondThroughVapor(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        var headers = head.headers
        if let given = headers.first(name: .xRequestId), !(client.viaTrustedProxy && Self.isPlausibleRequestID(given)) {
            headers.remove(name: .xRequestId)
        }
        let request = Request(
            application: application, method: head.method, url: URI(string: head.uri), version: head.version,
            headersNoUpdate: headers, collectedBody: body, remoteAddress: context.channel.remoteAddress,
            logger: application.logger, byteBufferAllocator: context.channel.allocator, on: context.eventLoop
        )
        request.remoteClient = client
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let underWay = services.underWay
        guard underWay.begin() else {
            _ = write((.serviceUnavailable, [:], nil), for: head, context: context)
            return
        }
        responder.respond(to: request).hop(to: context.eventLoop).whenComplete { result in
            underWay.end()
            let (handler, context) = loopBound.value
            handler.route = request.route.map(Self.routeLabel) ?? ServerMetrics.EdgeRoute.unmatched
            switch result {
            case .success(let response):
                // Not on a page a shared cache keeps: every later reader would be sent this id.
                if !response.headers[canonicalForm: "Cache-Control"].contains(where: { $0.lowercased().hasPrefix("public") }) {
                    response.headers.replaceOrAdd(name: .xRequestId, value: request.id)
                }
                handler.write(response, for: head, context: context)
            case .failure(let error):
                request.logger.error("request.failed", metadata: ["error": "\(error)"])
                handler.write(Response(status: .internalServerError), for: head, context: context)
            }
        }
    }

    private static func isPlausibleRequestID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    /// A route as it was registered, `/articles/:slug`: the same label for every article.
    private static func routeLabel(_ route: Route) -> String {
        "/" + route.path.map(\.description).joined(separator: "/")
    }

    private func write(_ response: Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        if let stream = response.eventStreamBody, response.status == .ok, head.method == .GET {
            // A stream opened while the server stops would hold it to the end of the grace
            // period; the browser asks again, and reaches another instance.
            guard !draining else {
                write((.serviceUnavailable, ["Retry-After": "1", "Cache-Control": "no-store"], nil), for: head, context: context)
                return
            }
            return writeEventStream(stream, headers: response.headers, for: head, context: context)
        }
        guard let buffer = response.body.buffer ?? (response.body.count == 0 ? ByteBuffer() : nil) else {
            application.logger.error("response.streaming_unsupported", metadata: ["uri": "\(head.uri)"])
            write((.internalServerError, [:], nil), for: head, context: context)
            return
        }
        write((response.status, response.headers, buffer), for: head, context: context)
    }

    /// Server-sent events: the head, then each event as it comes, flushed at once. The body ends
    /// with the connection (RFC 9112 §6.3: no length, `Connection: close`), so nothing else is
    /// answered on it; each write waits for the one before, so a reader who stops reading holds
    /// at most their own few events.
    private func writeEventStream(_ stream: EventStreamBody, headers: HTTPHeaders, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = headers
        headers.remove(name: .contentLength)
        headers.remove(name: .transferEncoding)
        headers.remove(name: .connection)
        guard let lines = HTTPWire.lines(headers) else {
            write((.internalServerError, [:], nil), for: head, context: context)
            return
        }
        recordAnswer(.ok, for: head)
        pipelined.removeAll()
        closeAfterAnswer = true
        var start = context.channel.allocator.buffer(capacity: 160 + lines.readableBytes)
        HTTPWire.writeStatusLine(.ok, version: head.version, into: &start)
        start.writeStaticString("Date: ")
        start.writeString(HTTPClock.now)
        start.writeStaticString("\r\n")
        if client.isHTTPS { start.writeStaticString("Strict-Transport-Security: max-age=31536000\r\n") }
        start.writeStaticString("Connection: close\r\n")
        var headerLines = lines
        start.writeBuffer(&headerLines)
        start.writeStaticString("\r\n")
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(start)), promise: nil)
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((self, context), eventLoop: eventLoop)
        eventStream = Task {
            for await event in stream.events {
                let written = eventLoop.flatSubmit {
                    let (handler, context) = loopBound.value
                    return context.writeAndFlush(handler.wrapOutboundOut(.byteBuffer(event)))
                }
                guard (try? await written.get()) != nil else { break }
            }
            eventLoop.execute { loopBound.value.1.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        eventStream?.cancel()
        eventStream = nil
        context.fireChannelInactive()
    }

    private func write(_ answer: FileAnswer, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = answer.headers
        SecurityHeadersMiddleware.apply(to: &headers)
        let body = answer.file.map { IOData.fileRegion(FileRegion(fileHandle: $0, readerIndex: answer.bytes.lowerBound, endIndex: answer.bytes.upperBound)) }
        let file = answer.file
        write(answer.status, headers, body ?? .byteBuffer(ByteBuffer()), for: head, context: context).whenComplete { _ in
            try? file?.close()
        }
    }

    @discardableResult
    private func write(_ answer: (HTTPResponseStatus, HTTPHeaders, ByteBuffer?), for head: HTTPRequestHead, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        write(answer.0, answer.1, .byteBuffer(answer.2 ?? ByteBuffer()), for: head, context: context)
    }

    private func write(
        _ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ body: IOData, for head: HTTPRequestHead, context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        var headers = headers
        // The body is whole, so its length frames it (RFC 9112 §6): never chunked. RFC 9110
        // §8.6: no Content-Length on 204, nor on 304 (where it would describe the page; Vapor
        // sets 0 on every empty response).
        headers.remove(name: .transferEncoding)
        if status == .notModified || status == .noContent {
            headers.remove(name: .contentLength)
        } else {
            headers.replaceOrAdd(name: .contentLength, value: String(body.readableBytes))
        }
        let closes = headers[canonicalForm: "Connection"].contains { $0.lowercased() == "close" }
        headers.remove(name: .connection)
        guard let lines = HTTPWire.lines(headers) else {
            application.logger.error("response.invalid_header", metadata: ["uri": "\(head.uri.prefix { $0 != "?" }.prefix(200))"])
            return write((.internalServerError, [:], nil), for: head, context: context)
        }
        return write(status, lines: lines, body: body, closes: closes, for: head, context: context)
    }

    /// Sends one answer: the status line and the lines that change per request (`Date`,
    /// `Connection`, HSTS) written here, then the answer's own header lines and body.
    private func write(_ answer: ReadyAnswer, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        write(answer.status, lines: answer.headerLines, body: answer.body.map(IOData.byteBuffer), closes: false, for: head, context: context)
    }

    @discardableResult
    private func write(
        _ status: HTTPResponseStatus, lines: ByteBuffer, body: IOData?, closes: Bool, for head: HTTPRequestHead, context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        recordAnswer(status, for: head)
        let keepAlive = head.isKeepAlive && !closes && !discarding && !closeAfterAnswer && !draining
        var start = context.channel.allocator.buffer(capacity: 160 + lines.readableBytes)
        HTTPWire.writeStatusLine(status, version: head.version, into: &start)
        start.writeStaticString("Date: ")
        start.writeString(HTTPClock.now)
        start.writeStaticString("\r\n")
        if client.isHTTPS { start.writeStaticString("Strict-Transport-Security: max-age=31536000\r\n") }
        if !keepAlive { start.writeStaticString("Connection: close\r\n") }
        var lines = lines
        start.writeBuffer(&lines)
        start.writeStaticString("\r\n")
        let bodyAllowed = head.method != .HEAD && status != .notModified && status != .noContent
        let done: EventLoopFuture<Void>
        if bodyAllowed, let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.byteBuffer(start)), promise: nil)
            done = context.writeAndFlush(wrapOutboundOut(body))
        } else {
            done = context.writeAndFlush(wrapOutboundOut(.byteBuffer(start)))
        }
        if !keepAlive {
            pipelined.removeAll()
            closeAfterAnswer = true
            // A refusal closes in its own way, lingering so the client can read it.
            if !discarding { done.whenComplete { _ in context.close(promise: nil) } }
        }
        answerWritten(context: context)
        return done
    }

    private func recordAnswer(_ status: HTTPResponseStatus, for head: HTTPRequestHead) {
        let kind = ServerMetrics.kind(route: route, method: head.method, status: status)
        let known = series[kind] ?? services.metrics.series(for: kind)
        if series.count < 64 { series[kind] = known }
        known.record(took: .nanoseconds((NIODeadline.now() - requestStarted).nanoseconds))
    }

    /// At shutdown: a connection between requests closes now; one in the middle of a request
    /// answers it, saying `Connection: close`, then closes; an event stream ends, and its
    /// reader's browser connects again, to another instance.
    private func drain(context: ChannelHandlerContext) {
        draining = true
        if eventStream != nil || (!answering && head == nil && pipelined.isEmpty) {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is FrontServer.Drain {
            drain(context: context)
        } else if event is IdleStateHandler.IdleStateEvent {
            // A reader of an event stream sends nothing while it listens.
            guard eventStream == nil else { return }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A request NIO could not parse is answered 400 and the connection closed, lingering so the
    /// client can read it; when an answer is already under way, that answer is the last (what
    /// follows the garbage, and any request queued behind it, cannot be trusted). Counted with
    /// the edge's other refusals.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Bytes that reach the decoder after it failed, while the connection is being closed.
        guard !discarding, !closeAfterAnswer else { return }
        guard let parserError = error as? HTTPParserError else {
            return context.close(promise: nil)
        }
        // A connection that closes mid-request (often one the edge itself cut off) is no refusal.
        guard parserError != .invalidEOFState else { return context.close(promise: nil) }
        application.logger.notice("edge.refused", metadata: ["status": "400", "reason": "\(error)"])
        pipelined.removeAll()
        guard !answering else {
            closeAfterAnswer = true
            return
        }
        services.metrics.recordRefusal(.badRequest)
        discarding = true
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(EdgeRefusal.bytes(.badRequest)))).whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
        context.eventLoop.scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
        resumeReading(context: context)
    }
}

/// Answers the edge gives before or without a request it could parse: written as raw bytes by
/// handlers that sit before the HTTP encoder, then the connection is closed.
final class EdgeRefusal: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let status: HTTPResponseStatus

    init(status: HTTPResponseStatus) {
        self.status = status
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(Self.bytes(status))).whenComplete { _ in context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    static func bytes(_ status: HTTPResponseStatus) -> ByteBuffer {
        let text = "\(status.code) \(status.reasonPhrase)\n"
        var headers = HTTPHeaders()
        SecurityHeadersMiddleware.apply(to: &headers)
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nDate: \(HTTPClock.now)\r\nContent-Type: text/plain; charset=utf-8\r\n"
        head += "Content-Length: \(text.utf8.count)\r\nConnection: close\r\n"
        if status == .serviceUnavailable { head += "Retry-After: 5\r\n" }
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        return ByteBuffer(string: head + "\r\n" + text)
    }
}

/// The `Date` header (RFC 9110 §6.6.1), formatted at most once a second.
enum HTTPClock {
    private static let cached = NIOLockedValueBox<(second: Int, text: String)>((0, ""))

    static var now: String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        return cached.withLockedValue { cache in
            if cache.second != second { cache = (second, HTTPDate.format(now)) }
            return cache.text
        }
    }
}

private struct RequestClientKey: StorageKey {
    typealias Value = RequestClient
}

extension Request {
    /// The client behind the trusted proxies, as the front server worked it out.
    var remoteClient: RequestClient {
        get { storage[RequestClientKey.self] ?? RequestClient(address: remoteAddress?.ipAddress ?? "unknown", isHTTPS: false) }
        set { storage[RequestClientKey.self] = newValue }
    }

    /// The client as rate limits and lockouts count it (`RequestClient.limitKey`).
    var clientAddress: String { remoteClient.limitKey }
}
