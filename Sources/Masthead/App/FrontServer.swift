import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Vapor

/// Masthead's HTTP/1.1 server. It answers anonymous GET and HEAD requests for cached public
/// pages straight from the page cache, before any routing, and hands every other request to
/// Vapor's responder (routes, middleware, errors) unchanged.
///
/// Why not Vapor's own server: profiling the cached article page showed nine tenths of the
/// time in Vapor's per-request machinery (request object, route lookup with percent-decoding,
/// request id, middleware futures), which a page already rendered does not need.
final class FrontServer: Server, Sendable {
    private let application: Application
    private let cache: PageCache
    private let fastPathEnabled: @Sendable () -> Bool
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    /// Open connections, closed on shutdown so no request reaches an application that has stopped.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private let stopped = NIOLockedValueBox(false)
    private let shutdownPromise: EventLoopPromise<Void>

    init(application: Application, cache: PageCache, fastPathEnabled: @escaping @Sendable () -> Bool) {
        self.application = application
        self.cache = cache
        self.fastPathEnabled = fastPathEnabled
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
        let application = application, cache = cache, fastPath = fastPathEnabled, connections = connections
        let bound = try await ServerBootstrap(group: application.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in connections.withLockedValue { _ = $0.removeValue(forKey: id) } }
                return channel.pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    .flatMapThrowing {
                        // A connection silent for a minute and a quarter is closed, so idle or
                        // trickling clients cannot hold connections open indefinitely.
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(75)), position: .first)
                        try channel.pipeline.syncOperations.addHandler(
                            FrontHandler(application: application, cache: cache, fastPathEnabled: fastPath)
                        )
                    }
            }
            .bind(host: host, port: port)
            .get()
        channel.withLockedValue { $0 = bound }
    }

    func shutdown() {
        guard let (listener, open) = beginShutdown() else { return }
        listener?.close(promise: nil)
        open.forEach { $0.close(promise: nil) }
        shutdownPromise.succeed(())
    }

    func shutdown() async {
        guard let (listener, open) = beginShutdown() else { return }
        try? await listener?.close().get()
        for connection in open { try? await connection.close().get() }
        shutdownPromise.succeed(())
    }

    /// The channels to close, once: a second shutdown finds nothing to do.
    private func beginShutdown() -> ((any Channel)?, [any Channel])? {
        let first = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return nil }
        let listener = channel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        return (listener, connections.withLockedValue { Array($0.values) })
    }
}

/// One connection: collects each request, answers it from the cache or through Vapor, and
/// writes the response. NIO's pipelining handler keeps responses in request order.
final class FrontHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let maxBodySize = 2 * 1024 * 1024
    /// The admin takes image uploads; only its pages, from a browser with a staff session, are
    /// allowed this much (the session itself is checked once the request reaches the admin).
    private static let maxAdminBodySize = MediaLibrary.maximumBytes + 1024 * 1024

    private static func mayUpload(_ head: HTTPRequestHead) -> Bool {
        head.uri.hasPrefix("/admin/") && head.headers[.cookie].contains { $0.contains(StaffSignIn.cookieName + "=") }
    }

    private let application: Application
    private let cache: PageCache
    private let fastPathEnabled: @Sendable () -> Bool
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false

    init(application: Application, cache: PageCache, fastPathEnabled: @escaping @Sendable () -> Bool) {
        self.application = application
        self.cache = cache
        self.fastPathEnabled = fastPathEnabled
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            bodyTooLarge = false
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            let limit = head.map(Self.mayUpload) == true ? Self.maxAdminBodySize : Self.maxBodySize
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                bodyTooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if bodyTooLarge {
                write(Response(status: .payloadTooLarge), for: requestHead, context: context)
            } else if let cached = fastResponse(for: requestHead) {
                write(cached, for: requestHead, context: context)
            } else {
                respondThroughVapor(requestHead, body: body, context: context)
            }
            body = nil
        }
    }

    /// A cached page for an anonymous GET or HEAD, or nil to let Vapor answer.
    private func fastResponse(for head: HTTPRequestHead) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer?)? {
        guard head.method == .GET || head.method == .HEAD,
              !head.headers[.cookie].contains(where: { $0.contains(MemberSessions.cookieName + "=") }),
              let page = cache.hit(uri: head.uri), fastPathEnabled()
        else { return nil }
        var answer = page.body.answer(
            to: head.headers, cacheControl: SiteController.anonymousCacheControl,
            vary: SiteController.pageVary, lastModified: page.lastModified
        )
        SecurityHeadersMiddleware.apply(to: &answer.headers)
        return answer
    }

    private func respondThroughVapor(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let request = Request(
            application: application, method: head.method, url: URI(string: head.uri), version: head.version,
            headersNoUpdate: head.headers, collectedBody: body, remoteAddress: context.channel.remoteAddress,
            logger: application.logger, byteBufferAllocator: context.channel.allocator, on: context.eventLoop
        )
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        application.responder.respond(to: request).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let response):
                handler.write(response, for: head, context: context)
            case .failure(let error):
                handler.application.logger.error("request.failed", metadata: ["error": "\(error)"])
                handler.write(Response(status: .internalServerError), for: head, context: context)
            }
        }
    }

    private func write(_ response: Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let buffer = response.body.buffer ?? (response.body.count == 0 ? ByteBuffer() : nil) else {
            application.logger.error("response.streaming_unsupported", metadata: ["uri": "\(head.uri)"])
            write((.internalServerError, [:], nil), for: head, context: context)
            return
        }
        write((response.status, response.headers, buffer), for: head, context: context)
    }

    private func write(_ answer: (HTTPResponseStatus, HTTPHeaders, ByteBuffer?), for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var (status, headers, body) = answer
        let bodyAllowed = head.method != .HEAD && status != .notModified && status != .noContent
        if status != .notModified {
            headers.replaceOrAdd(name: .contentLength, value: String(body?.readableBytes ?? 0))
        }
        headers.replaceOrAdd(name: .date, value: HTTPClock.now)
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.replaceOrAdd(name: .connection, value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if bodyAllowed, let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { _ in context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
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
