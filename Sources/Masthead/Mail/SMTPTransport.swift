import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends mail to an SMTP server (RFC 5321), over TLS whenever the server allows it.
public struct SMTPTransport: MailTransport, MailConnector {
    let configuration: SMTPConfiguration
    let group: any EventLoopGroup
    let heloName: String
    /// Signs every message, when the outlet publishes a DKIM key for its domain.
    let signer: DKIMSigner?

    public init(configuration: SMTPConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, heloName: String, signer: DKIMSigner? = nil) {
        self.configuration = configuration
        self.group = group
        self.heloName = heloName
        self.signer = signer
    }

    /// A session to deliver many messages over, one transaction after another.
    public func connect() async throws -> any MailConnection {
        try await SMTPSession.open(configuration, group: group, heloName: heloName, signer: signer)
    }

    public func send(_ message: EmailMessage) async throws -> String {
        let session = try await SMTPSession.open(configuration, group: group, heloName: heloName, signer: signer)
        do {
            let receipt = try await session.deliver(message)
            await session.quit()
            return receipt
        } catch {
            await session.shutDown()
            throw error
        }
    }
}

/// One SMTP conversation: greeting, EHLO, STARTTLS, AUTH, then transactions, pipelined when
/// the server offers it (RFC 2920).
final class SMTPSession: MailConnection {
    private let channel: any Channel
    private let replies: SMTPReplyHandler
    private let configuration: SMTPConfiguration
    private let pipelining = Mutex(false)
    private let signer: DKIMSigner?

    private init(channel: any Channel, replies: SMTPReplyHandler, configuration: SMTPConfiguration, signer: DKIMSigner?) {
        self.channel = channel
        self.replies = replies
        self.configuration = configuration
        self.signer = signer
    }

    static func open(_ configuration: SMTPConfiguration, group: any EventLoopGroup, heloName: String, signer: DKIMSigner?) async throws -> SMTPSession {
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
        let session = SMTPSession(channel: channel, replies: replies, configuration: configuration, signer: signer)
        do {
            try await session.expect(try await session.nextReply(), 220)
            try await session.greet(heloName: heloName)
        } catch {
            await session.shutDown()
            throw error
        }
        return session
    }

    private func greet(heloName: String) async throws {
        var extensions = try await ehlo(heloName)
        defer { pipelining.withLock { [extensions] in $0 = extensions.contains { $0.uppercased() == "PIPELINING" } } }
        var encrypted = configuration.security == .implicitTLS
        if !encrypted, extensions.contains(where: { $0.uppercased() == "STARTTLS" }) {
            try expect(try await command("STARTTLS"), 220)
            // A reply already waiting was sent in the clear before TLS: injected by someone on
            // the way (RFC 3207 §6), it would be taken as the answer to a later command.
            guard try await replies.isDrained(on: channel.eventLoop).get() else {
                throw MailError.transient("\(configuration.host) sent data after agreeing to STARTTLS; refusing the connection")
            }
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
    /// A refused step ends the transaction (RSET), so the session can carry the next message.
    func deliver(_ message: EmailMessage, answerWithin: Duration, handingOver: @Sendable () async throws -> Bool) async throws -> String {
        let wire = signer.map { Array($0.sign(message.rendered()).utf8) } ?? message.wireBytes()
        let envelope = ["MAIL FROM:<\(message.from.email)>", "RCPT TO:<\(message.to.email)>", "DATA"]
        let answers: [SMTPReply]
        if pipelining.withLock({ $0 }) {
            answers = try await commands(envelope)
        } else {
            var sent: [SMTPReply] = []
            for line in envelope {
                let reply = try await command(line)
                sent.append(reply)
                guard reply.code < 400 else { break }
            }
            answers = sent
        }
        if let mailFrom = answers.first, mailFrom.code != 250 {
            try await reset(after: answers)
            try expect(mailFrom, 250)
        }
        if answers.count > 1, ![250, 251].contains(answers[1].code) {
            try await reset(after: answers)
            let text = "\(answers[1].code) \(answers[1].lines.joined(separator: " "))"
            throw answers[1].code >= 500 ? MailError.recipientRefused(text) : MailError.transient(text)
        }
        guard answers.count > 2 else { throw MailError.transient("no answer to DATA from \(configuration.host)") }
        try expect(answers[2], 354)
        do {
            try await channel.writeAndFlush(Self.dataBody(wire)).get()
        } catch {
            throw MailError.transient("connection lost while sending the message: \(error)")
        }
        let handOver: Bool
        do {
            handOver = try await handingOver()
        } catch {
            await shutDown()
            throw error
        }
        guard handOver else {
            await shutDown()
            throw HandOverWithdrawn()
        }
        let reply = try await endData(answerWithin: answerWithin)
        try expect(reply, 250)
        return "\(reply.code) \(reply.lines.joined(separator: " "))"
    }

    /// The line that ends the message. Once it is written the server may keep the message, so
    /// a reply that never comes leaves it unconfirmed rather than failed.
    private func endData(answerWithin: Duration) async throws -> SMTPReply {
        let reply = replies.nextReply(on: channel.eventLoop)
        do {
            try await channel.writeAndFlush(ByteBuffer(string: ".\r\n")).get()
        } catch {
            throw MailError.transient("connection lost before the end of the message: \(error)")
        }
        do {
            return try await awaitReply(reply, within: .nanoseconds(Int64(answerWithin.components.seconds) * 1_000_000_000 + answerWithin.components.attoseconds / 1_000_000_000))
        } catch {
            throw MailError.unconfirmed("no answer from \(configuration.host) after the end of the message")
        }
    }

    /// The message as DATA carries it (RFC 5321 §4.5.2), with the line of a lone dot that ends it.
    static func dataSection(_ message: [UInt8]) -> ByteBuffer {
        var buffer = dataBody(message)
        buffer.writeString(".\r\n")
        return buffer
    }

    /// The message as DATA carries it, up to the line that ends it: a line that starts with a
    /// dot gets a second one (counting a bare LF as a line end). Written byte by byte into the
    /// buffer the connection sends, with no copy of the message as a string.
    static func dataBody(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + 64)
        message.withUnsafeBufferPointer { bytes in
            var start = 0
            var atLineStart = true
            for index in bytes.indices {
                if atLineStart, bytes[index] == UInt8(ascii: ".") {
                    buffer.writeBytes(bytes[start..<index])
                    buffer.writeInteger(UInt8(ascii: "."))
                    start = index
                }
                // After a bare LF too: a server that takes it for a line end must not read
                // "\n.\r\n" as the end of the message (SMTP smuggling).
                atLineStart = bytes[index] == UInt8(ascii: "\n")
            }
            buffer.writeBytes(bytes[start...])
        }
        if message.count < 2 || message[message.count - 2] != 0x0D || message[message.count - 1] != 0x0A {
            if !message.isEmpty { buffer.writeString("\r\n") }
        }
        return buffer
    }

    /// Ends a refused transaction. A DATA the server accepted anyway cannot be taken back
    /// cleanly: the connection is closed instead, and the caller opens another.
    private func reset(after answers: [SMTPReply]) async throws {
        if answers.count > 2, answers[2].code == 354 {
            await shutDown()
            return
        }
        try expect(try await command("RSET"), 250)
    }

    func quit() async {
        _ = try? await command("QUIT")
        await shutDown()
    }

    func close() async {
        await quit()
    }

    func shutDown() async {
        try? await channel.close().get()
    }

    private func command(_ line: String, redacted: String? = nil) async throws -> SMTPReply {
        try await send(ByteBuffer(string: line + "\r\n"), redacted: redacted ?? line)
    }

    private func send(_ bytes: ByteBuffer, redacted: String) async throws -> SMTPReply {
        let reply = replies.nextReply(on: channel.eventLoop)
        do {
            try await channel.writeAndFlush(bytes).get()
        } catch {
            throw MailError.transient("connection lost while sending \(redacted): \(error)")
        }
        return try await awaitReply(reply)
    }

    /// Several commands in one write, their replies read in order (PIPELINING).
    private func commands(_ lines: [String]) async throws -> [SMTPReply] {
        let futures = lines.map { _ in replies.nextReply(on: channel.eventLoop) }
        do {
            try await channel.writeAndFlush(ByteBuffer(string: lines.map { $0 + "\r\n" }.joined())).get()
        } catch {
            throw MailError.transient("connection lost while sending \(lines.first ?? "")…: \(error)")
        }
        var answers: [SMTPReply] = []
        for future in futures { answers.append(try await awaitReply(future)) }
        return answers
    }

    private func nextReply() async throws -> SMTPReply {
        try await awaitReply(replies.nextReply(on: channel.eventLoop))
    }

    private func awaitReply(_ future: EventLoopFuture<SMTPReply>, within: TimeAmount = .seconds(60)) async throws -> SMTPReply {
        let timeout = channel.eventLoop.scheduleTask(in: within) {
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

    /// Limits on what a server may send: a reply line, a reply's lines, replies nobody asked for.
    private static let longestLine = 4096
    private static let mostLines = 200
    private static let mostUnasked = 8

    func isDrained(on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        eventLoop.submit { self.ready.isEmpty && self.lines.isEmpty && self.buffer.readableBytes == 0 }
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
        // A session carries many messages: what was read is let go as it goes.
        buffer.discardReadBytes()
        if buffer.readableBytes > Self.longestLine || lines.count > Self.mostLines || ready.count > Self.mostUnasked {
            errorCaught(context: context, error: MailError.transient("the server's replies broke SMTP's limits; closing the connection"))
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

    /// The next whole line, without its line end (CRLF, or a bare LF from a lax server).
    private func nextLine() -> String? {
        guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var line = buffer.readBytes(length: end - buffer.readerIndex + 1) ?? []
        while let last = line.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    private func deliver(_ reply: SMTPReply) {
        if waiting.isEmpty {
            ready.append(reply)
        } else {
            waiting.removeFirst().succeed(reply)
        }
    }
}
