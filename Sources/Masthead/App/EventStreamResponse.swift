import NIOCore
import Vapor

/// A response whose body is a stream of server-sent events (text/event-stream), written by
/// `FrontHandler` as the events come, for as long as both sides keep the connection. Handlers
/// decide everything else (status, headers, access) as for any response.
struct EventStreamBody: Sendable {
    let events: AsyncStream<ByteBuffer>
}

private struct EventStreamKey: StorageKey {
    typealias Value = EventStreamBody
}

extension Response {
    static func eventStream(_ events: AsyncStream<ByteBuffer>) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/event-stream; charset=utf-8")
        // Per reader and never finished: no cache, no proxy buffering (nginx honours this one).
        headers.add(name: .cacheControl, value: "no-store")
        headers.add(name: "X-Accel-Buffering", value: "no")
        let response = Response(status: .ok, headers: headers)
        response.storage[EventStreamKey.self] = EventStreamBody(events: events)
        return response
    }

    var eventStreamBody: EventStreamBody? { storage[EventStreamKey.self] }
}
