import Crypto
import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// Breaking-news alerts by Web Push: browsers subscribe through the site, and each alert
/// reaches them encrypted for their keys and signed for the site, as independent
/// implementations (Python's http_ece and py_vapid, in a push service on 127.0.0.1) read it.
@Suite("Web Push alerts", .serialized)
struct WebPushTests {
    @Test("the message encryption reproduces RFC 8291's worked example byte for byte")
    func encryptionMatchesTheRFC() throws {
        let serverKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: try #require(Data(base64URLEncoded: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")))
        let recipient = try #require(WebPushEncryption.Recipient(
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4", auth: "BTBZMqHH6r4Tts7J_aSIgg"
        ))
        let message = try WebPushEncryption.encrypt(
            Data("When I grow up, I want to be a watermelon".utf8), for: recipient,
            serverKey: serverKey, salt: try #require(Data(base64URLEncoded: "DGv6ra1nlYgDCS1FRnbzlw"))
        )
        #expect(message.base64URLEncoded() == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    @Test("the site's push key is the same on every instance that shares the secret, and changes with it")
    func keyFollowsTheSecret() {
        let secret = SymmetricKey(data: Data("a shared secret of at least thirty-two characters".utf8))
        let first = VAPID(secret: secret, subject: "mailto:news@example.com"), second = VAPID(secret: secret, subject: "mailto:news@example.com")
        let other = VAPID(secret: SymmetricKey(data: Data("another secret of at least thirty-two characters".utf8)), subject: "mailto:news@example.com")
        #expect(first.publicKey == second.publicKey && first.publicKey != other.publicKey)
        #expect(Data(base64URLEncoded: first.publicKey)?.count == 65)
    }

    @Test("a browser turns on an edition's alerts through the site; a flagged paid story reaches it as the headline and a link, encrypted and signed; a browser that left is forgotten", arguments: TestDatabase.available)
    func alertReachesSubscribedBrowsers(database: TestDatabase) async throws {
        let service = try await TestPushService.start()
        defer { service.stop() }
        try await withSite(on: database, configure: { $0.pushServices = PushServices(hosts: ["127.0.0.1"]) }) { site in
            let reader = try await service.subscription(), leaver = try await service.subscription(answering: 410)
            let arabicReader = try await service.subscription()
            for (subscription, edition) in [(reader, "en"), (leaver, "en"), (arabicReader, "ar")] {
                let answer = try await Self.post(site, "/push/subscriptions", Self.json(subscription, edition: edition))
                #expect(answer.status == .created)
            }
            #expect(try await PushSubscription.query(on: site.app.db).count() == 3)

            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let desk = "/admin/articles/\(article.id!)/breaking"
            let form = try await editor.get(desk)
            #expect(form.body.contains("To the 2 browsers"))
            let flagged = try await editor.submit(form, action: desk, ["headline": "Crossing retaken", "minutes": "30", "push_alert": "1"])
            #expect(flagged.status == .seeOther)

            #expect(try await waitUntil(seconds: 20) { try service.received().count == 2 })
            let received = try service.received()
            #expect(received.allSatisfy { $0.error == nil }, "\(received.compactMap(\.error))")
            let message = try #require(received.first { reader.endpoint.hasSuffix($0.subscription) })
            let payload = try JSONDecoder().decode([String: String].self, from: Data(try #require(message.payload).utf8))
            #expect(payload["body"] == "Crossing retaken")
            #expect(payload["url"] == site.settings.publicURL + "/articles/\(article.slug)")
            #expect(payload["title"]?.hasPrefix("Breaking") == true && payload["lang"] == "en" && payload["tag"] == "breaking-en")
            for sentence in DemoArticles.gatedSentences(of: article) { #expect(message.payload?.contains(sentence) == false) }
            #expect(message.headers["urgency"] == "high" && message.headers["ttl"] == "21600" && message.headers["topic"] == "breaking-en")

            #expect(try await waitUntil { try await PushSubscription.query(on: site.app.db).filter(\.$endpoint == leaver.endpoint).count() == 0 })
            #expect(try await PushSubscription.query(on: site.app.db).count() == 2)
            #expect(try await editor.get(desk).body.contains("1 of 2 browsers reached, 1 unsubscribed"))
        }
    }

    @Test("the site refuses a subscription to a push service not on its list, with keys that are not keys, from another site's page, or past the hourly limit", arguments: [TestDatabase.sqlite])
    func refusals(database: TestDatabase) async throws {
        let service = try await TestPushService.start()
        defer { service.stop() }
        try await withSite(on: database, configure: { $0.pushServices = PushServices(hosts: ["127.0.0.1", "push.example"]) }) { site in
            let real = try await service.subscription()
            func attempt(_ endpoint: String, p256dh: String = real.keys.p256dh, auth: String = real.keys.auth, origin: String? = nil) async throws -> TestSite.Page {
                let subscription = TestPushService.Subscription(endpoint: endpoint, keys: .init(p256dh: p256dh, auth: auth))
                return try await Self.post(site, "/push/subscriptions", Self.json(subscription, edition: "en"), origin: origin ?? site.settings.publicOrigin)
            }
            for endpoint in ["https://evil.example/push", "http://push.example/send", "https://push.example:8443/send", "http://10.0.0.1/send",
                             "https://user:pass@push.example/send", "file:///etc/passwd", "not a url",
                             "https://169.254.169.254%00.push.example/send", "https://evil.example%2Epush.example/send", "https://push.example /send"] {
                let refused = try await attempt(endpoint)
                #expect(refused.status == .unprocessableEntity && refused.body.contains("not one this site sends to"), "\(endpoint)")
            }
            #expect(try await attempt(real.endpoint, p256dh: "BAAA").status == .unprocessableEntity)
            #expect(try await attempt(real.endpoint, auth: "c2hvcnQ").status == .unprocessableEntity)
            #expect(try await attempt(real.endpoint, origin: "https://attacker.example").status == .forbidden)
            #expect(try await Self.post(site, "/push/subscriptions", "{\"endpoint\": 3}").status == .badRequest)
            #expect(try await PushSubscription.query(on: site.app.db).count() == 0)

            for index in 0..<PushSubscriptions.perClientHourly {
                #expect(try await attempt("https://push.example/send/\(index)").status == .created)
            }
            let tooMany = try await attempt("https://push.example/send/one-more")
            #expect(tooMany.status == .tooManyRequests)
            #expect(try await Self.post(site, "/push/unsubscribe", "{\"endpoint\": \"https://push.example/send/0\"}").status == .noContent)
            #expect(try await PushSubscription.query(on: site.app.db).count() == PushSubscriptions.perClientHourly - 1)
        }
    }

    @Test("every page offers alerts through a script the browser reveals, and the service worker is served at the root", arguments: [TestDatabase.sqlite])
    func pagesOfferAlerts(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let home = try await site.get("/ar/").body
            let control = try #require(HTML.section(of: home, from: "<section class=\"push-alerts\"", to: "</section>"))
            #expect(control.contains(" hidden ") && control.contains("data-push-key=\"") && control.contains("data-edition=\"ar\""))
            let worker = try await site.get("/push-worker.js")
            #expect(worker.status == .ok && worker.headers.first(name: .contentType)?.contains("javascript") == true)
            #expect(worker.headers.first(name: .cacheControl) == "no-cache" && worker.body.contains("showNotification"))
        }
    }

    static func json(_ subscription: TestPushService.Subscription, edition: String) -> String {
        #"{"endpoint": "\#(subscription.endpoint)", "expirationTime": null, "keys": {"p256dh": "\#(subscription.keys.p256dh)", "auth": "\#(subscription.keys.auth)"}, "edition": "\#(edition)"}"#
    }

    /// A POST as the site's own script sends it: JSON, from a page of the site.
    static func post(_ site: TestSite, _ path: String, _ body: String, origin: String? = nil) async throws -> TestSite.Page {
        let response = try await site.app.client.post(URI(string: site.baseURL + path), headers: [
            "Content-Type": "application/json", "Origin": origin ?? site.settings.publicOrigin,
        ]) { $0.body = .init(string: body) }
        let bytes = response.body ?? .init()
        return TestSite.Page(status: response.status, headers: response.headers, body: String(buffer: bytes), bytes: bytes)
    }
}
