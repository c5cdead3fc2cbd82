import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends mail to an SMTP server (RFC 5321), over TLS whenever the server allows it.
public struct SMTPTransport: MailTransport {
    let configuration: SMTPConfiguration
    let group: any EventLoopGroup
    let heloName: String

    public init(configuration: SMTPConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, heloName: String) {
        self.configuration = configuration
        self.group = group
        self.heloName = heloName
    }

    public func send(_ message: EmailMessage) async throws -> String {
        let session = try await SMTPSession.open(configuration, group: group, heloName: heloName)
        do {
            let receipt = try await session.deliver(message)
            await session.quit()
            return receipt
        } catch {
            await session.close()
            throw error
        }
    }
}

/// One SMTP conversation: greeting, EHLO, STARTTLS, AUTH, then transactions.
final class SMTPSession: Sendable {
    private let channel: any Channel
    private let replies: SMTPReplyHandler
    private let configuration: SMTPConfiguration

    private init(channel: any Channel, replies: SMTPReplyHandler, configuration: SMTPConfiguration) {
        self.channel = channel
        self.replies = replies
        self.configuration = configuration
    }

    static func open(_ configuration: SMTPConfiguration, group: any EventLoopGroup, heloName: String) async throws -> SMTPSession {
        let replies = SMTPReplyHandler()
        let tlsContext = configuration.security == .implicitTLS ? try makeTLSContext(configuration) : nil
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: configuration.serverNameIndication)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        try channel.pipeline.syncOperations.addHandler(replies)
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw MailError.transient("cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        let session = SMTPSession(channel: channel, replies: replies, configuration: configuration)
        do {
            try await session.expect(try await session.nextReply(), 220)
            try await session.greet(heloName: heloName)
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    private func greet(heloName: String) async throws {
        var extensions = try await ehlo(heloName)
        var encrypted = configuration.security == .implicitTLS
        if !encrypted, extensions.contains(where: { $0.uppercased() == "STARTTLS" }) {
            try expect(try await command("STARTTLS"), 220)
            let tls = try NIOSSLClientHandler(context: try Self.makeTLSContext(configuration), serverHostname: configuration.serverNameIndication)
            try await channel.pipeline.addHandler(tls, position: .first).get()
            encrypted = true
            // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
            extensions = try await ehlo(heloName)
        } else if !encrypted, configuration.security == .requiredSTARTTLS {
            throw MailError.permanent("\(configuration.host) does not offer STARTTLS, which MASTHEAD_SMTP_URL requires")
        }
        guard let username = configuration.username else { return }
        guard encrypted || configuration.isLoopback else {
            throw MailError.permanent("refusing to send SMTP credentials to \(configuration.host) without TLS")
        }
        try await authenticate(username: username, password: configuration.password ?? "", extensions: extensions)
    }

    private func ehlo(_ name: String) async throws -> [String] {
        let reply = try await command("EHLO \(name)")
        try expect(reply, 250)
        return reply.lines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// RFC 4954: PLAIN when offered, else LOGIN.
    private func authenticate(username: String, password: String, extensions: [String]) async throws {
        let mechanisms = extensions.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").dropFirst() ?? []
        if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try expect(try await command("AUTH PLAIN \(token)", redacted: "AUTH PLAIN ***"), 235)
        } else {
            try expect(try await command("AUTH LOGIN"), 334)
            try expect(try await command(Data(username.utf8).base64EncodedString(), redacted: "***"), 334)
            try expect(try await command(Data(password.utf8).base64EncodedString(), redacted: "***"), 235)
        }
    }

    /// One transaction; returns the server's final answer, which usually names its queue id.
    func deliver(_ message: EmailMessage) async throws -> String {
        try expect(try await command("MAIL FROM:<\(message.from.email)>"), 250)
        try expect(try await command("RCPT TO:<\(message.to.email)>"), 250, 251)
        try expect(try await command("DATA"), 354)
        // RFC 5321 §4.5.2: a line that starts with a dot gets a second one.
        let stuffed = message.rendered().components(separatedBy: "\r\n")
            .map { $0.hasPrefix(".") ? "." + $0 : $0 }
            .joined(separator: "\r\n")
        let reply = try await command(stuffed + ".", redacted: "<message>")
        try expect(reply, 250)
        return "\(reply.code) \(reply.lines.joined(separator: " "))"
    }

    func quit() async {
        _ = try? await command("QUIT")
        await close()
    }

    func close() async {
        try? await channel.close().get()
    }

    private func command(_ line: String, redacted: String? = nil) async throws -> SMTPReply {
        let reply = replies.nextReply(on: channel.eventLoop)
        do {
            try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
        } catch {
            throw MailError.transient("connection lost while sending \(redacted ?? line): \(error)")
        }
        return try await awaitReply(reply)
    }

    private func nextReply() async throws -> SMTPReply {
        try await awaitReply(replies.nextReply(on: channel.eventLoop))
    }

    private func awaitReply(_ future: EventLoopFuture<SMTPReply>) async throws -> SMTPReply {
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(60)) {
            self.channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        do {
            return try await future.get()
        } catch {
            throw MailError.transient("no answer from \(configuration.host): \(error)")
        }
    }

    private func expect(_ reply: SMTPReply, _ codes: Int...) throws {
        guard !codes.contains(reply.code) else { return }
        let text = "\(reply.code) \(reply.lines.joined(separator: " "))"
        throw reply.code >= 500 ? MailError.permanent(text) : MailError.transient(text)
    }

    /// Certificates are verified against the system's roots, or the configured private ones.
    private static func makeTLSContext(_ configuration: SMTPConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = configuration.trustRootsPath {
            tls.trustRoots = .file(path)
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw MailError.permanent("cannot set up TLS for \(configuration.host): \(error)")
        }
    }
}

struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]
}

/// Reassembles the server's (possibly multi-line, RFC 5321 §4.2.1) replies and hands each to the
/// command waiting for it. Touched only on its channel's event loop.
final class SMTPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    private var closed = false
    private var lines: [String] = []
    private var ready: [SMTPReply] = []
    private var waiting: [EventLoopPromise<SMTPReply>] = []

    func nextReply(on eventLoop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        eventLoop.flatSubmit {
            if !self.ready.isEmpty { return eventLoop.makeSucceededFuture(self.ready.removeFirst()) }
            // The server may hang up before the next command's promise is even registered.
            if self.closed { return eventLoop.makeFailedFuture(MailError.transient("the server closed the connection")) }
            let promise = eventLoop.makePromise(of: SMTPReply.self)
            self.waiting.append(promise)
            return promise.futureResult
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let line = nextLine() {
            guard line.count >= 3, let code = Int(line.prefix(3)) else { continue }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                deliver(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        let pending = waiting
        waiting = []
        pending.forEach { $0.fail(MailError.transient("the server closed the connection")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let pending = waiting
        waiting = []
        pending.forEach { $0.fail(error) }
        context.close(promise: nil)
    }

    private func nextLine() -> String? {
        guard let view = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = view - buffer.readerIndex + 1
        // CRLF is one Character in Swift, so trim by scalars rather than by suffix.
        return buffer.readString(length: length)?.trimmingCharacters(in: .newlines)
    }

    private func deliver(_ reply: SMTPReply) {
        if waiting.isEmpty {
            ready.append(reply)
        } else {
            waiting.removeFirst().succeed(reply)
        }
    }
}
