@testable import CreekBroker
import CreekSimulation
import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// SCRAM key derivation against published vectors, a whole SCRAM exchange computed on both
/// sides, and the per-connection SASL state machine: order of requests, SaslHandshake v0's
/// raw tokens, expiry without re-authentication, credentials saved across a reopen.
@Suite("SASL and SCRAM")
struct SaslTests {
    let files = SimulatedFileSystem()

    func store(_ users: [(String, ScramMechanism, String)] = [("alice", .sha256, "alice-secret")]) async throws -> CredentialStore {
        try files.makeDirectoryDurably("/data")
        let store = try CredentialStore(dataDirectory: "/data", files: files)
        try await store.apply(users.map { .upsert(user: $0.0, ScramCredential(mechanism: $0.1, password: $0.2, iterations: 4096)) })
        return store
    }

    func frame<Request: KafkaRequestMessage>(_ request: Request, key: ApiKey, version: Int16) throws -> FramedRequest {
        var writer = KafkaWriter(buffer: ByteBuffer())
        RequestHeader(requestApiKey: key.rawValue, requestApiVersion: version, correlationId: 7, clientId: "test")
            .write(to: &writer, version: key.requestHeaderVersion(apiVersion: version))
        request.write(to: &writer, version: version)
        return try FramedRequest(frame: writer.buffer)
    }

    @Test func pbkdf2MatchesPublishedVectors() {
        // PBKDF2-HMAC-SHA256 ("password", "salt", 4096), as published for RFC 7914's test suites.
        let derived = ScramMechanism.sha256.saltedPassword(Array("password".utf8), salt: Array("salt".utf8), iterations: 4096)
        #expect(derived.map { String(format: "%02x", $0) }.joined() == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
    }

    @Test(arguments: ScramMechanism.allCases)
    func scramExchangeAcceptsTheRightProofOnly(mechanism: ScramMechanism) throws {
        let credential = ScramCredential(mechanism: mechanism, password: "pencil", iterations: 4096)
        for (password, accepted) in [("pencil", true), ("pencil2", false)] {
            var exchange = ScramServerExchange(mechanism: mechanism)
            let clientFirstBare = "n=user,r=fyko+d2lbbFgONRv9qkxdawL"
            let serverFirst = try exchange.start(Array("n,,\(clientFirstBare)".utf8)) { $0 == "user" ? credential : nil }
            let fields = Dictionary(uniqueKeysWithValues: String(decoding: serverFirst, as: UTF8.self).split(separator: ",").map {
                (String($0.prefix(1)), String($0.dropFirst(2)))
            })
            let saltText = try #require(fields["s"])
            let salt = try #require(Data(base64Encoded: saltText))
            let salted = mechanism.saltedPassword(Array(password.utf8), salt: Array(salt), iterations: 4096)
            let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
            let nonce = try #require(fields["r"])
            let withoutProof = "c=biws,r=\(nonce)"
            let authMessage = Array("\(clientFirstBare),\(String(decoding: serverFirst, as: UTF8.self)),\(withoutProof)".utf8)
            let signature = mechanism.hmac(key: mechanism.hash(clientKey), authMessage)
            let proof = Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
            let result = Result { try exchange.finish(Array("\(withoutProof),p=\(proof)".utf8)) }
            if accepted {
                let serverKey = mechanism.hmac(key: salted, Array("Server Key".utf8))
                let expected = "v=" + Data(mechanism.hmac(key: serverKey, authMessage)).base64EncodedString()
                #expect(try String(decoding: result.get(), as: UTF8.self) == expected)
                #expect(exchange.authenticatedUser == "user")
            } else {
                #expect(throws: ScramServerExchange.Failure.badProof) { try result.get() }
                #expect(exchange.authenticatedUser == nil)
            }
        }
    }

    @Test func saslNamesAreUnescapedAndBadEscapesRefused() {
        #expect(ScramServerExchange.unescape("a=2Cb=3Dc") == "a,b=c")
        #expect(ScramServerExchange.unescape("a=2") == nil)
        #expect(ScramServerExchange.unescape("a=41") == nil)
    }

    @Test func requestsBeforeTheLoginCloseAndOrderIsEnforced() async throws {
        let credentials = try await store()
        var session = SaslSession(settings: SASLSettings(), credentials: credentials)
        #expect(isPass(session.admit(try frame(ApiVersionsRequest(), key: .apiVersions, version: 3), nowNanos: 0)))
        var early = SaslSession(settings: SASLSettings(), credentials: credentials)
        #expect(isClose(early.admit(try frame(MetadataRequest(), key: .metadata, version: 12), nowNanos: 0)))
        var outOfOrder = SaslSession(settings: SASLSettings(), credentials: credentials)
        let authenticate = SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: Array("\0alice\0alice-secret".utf8)))
        #expect(closesAfterAnswer(outOfOrder.admit(try frame(authenticate, key: .saslAuthenticate, version: 1), nowNanos: 0)))
        #expect(outOfOrder.hasFailed)
        #expect(isAnswer(session.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 1), nowNanos: 0)))
        #expect(isAnswer(session.admit(try frame(authenticate, key: .saslAuthenticate, version: 1), nowNanos: 0)))
        #expect(session.principal == "User:alice")
        #expect(isPass(session.admit(try frame(MetadataRequest(), key: .metadata, version: 12), nowNanos: 1)))
    }

    @Test func handshakeV0IsFollowedByRawTokens() async throws {
        var session = SaslSession(settings: SASLSettings(), credentials: try await store())
        #expect(isAnswer(session.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 0), nowNanos: 0)))
        #expect(session.expectsRawToken)
        #expect(isAnswer(session.rawToken(ByteBuffer(bytes: Array("\0alice\0alice-secret".utf8)), nowNanos: 0)))
        #expect(!session.expectsRawToken && session.principal == "User:alice")
        var wrong = SaslSession(settings: SASLSettings(), credentials: try await store())
        _ = wrong.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 0), nowNanos: 0)
        #expect(isClose(wrong.rawToken(ByteBuffer(bytes: Array("\0alice\0nope".utf8)), nowNanos: 0)))
    }

    @Test func anExpiredSessionMustReauthenticateAsTheSameUser() async throws {
        var settings = SASLSettings()
        settings.maxReauthMs = 1000
        let credentials = try await store([("alice", .sha256, "a"), ("bob", .sha256, "b")])
        var session = SaslSession(settings: settings, credentials: credentials)
        let login = { (user: String, password: String) in
            SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: Array("\0\(user)\0\(password)".utf8)))
        }
        _ = session.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 1), nowNanos: 0)
        #expect(isAnswer(session.admit(try frame(login("alice", "a"), key: .saslAuthenticate, version: 1), nowNanos: 0)))
        #expect(isPass(session.admit(try frame(MetadataRequest(), key: .metadata, version: 12), nowNanos: 999_000_000)))
        var expired = session
        #expect(isClose(expired.admit(try frame(MetadataRequest(), key: .metadata, version: 12), nowNanos: 1_000_000_000)))
        var renewed = session
        _ = renewed.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 1), nowNanos: 900_000_000)
        #expect(isAnswer(renewed.admit(try frame(login("alice", "a"), key: .saslAuthenticate, version: 1), nowNanos: 900_000_000)))
        #expect(isPass(renewed.admit(try frame(MetadataRequest(), key: .metadata, version: 12), nowNanos: 1_500_000_000)))
        var switched = session
        _ = switched.admit(try frame(SaslHandshakeRequest(mechanism: "PLAIN"), key: .saslHandshake, version: 1), nowNanos: 900_000_000)
        #expect(closesAfterAnswer(switched.admit(try frame(login("bob", "b"), key: .saslAuthenticate, version: 1), nowNanos: 900_000_000)))
    }

    @Test func credentialsSurviveAReopen() async throws {
        _ = try await store([("alice", .sha512, "secret")])
        let reopened = try CredentialStore(dataDirectory: "/data", files: files)
        let credential = try #require(reopened.credential(user: "alice", mechanism: .sha512))
        #expect(credential.matches(password: "secret") && !credential.matches(password: "Secret"))
        let saved = String(decoding: try files.readAll("/data/meta/scram-credentials.json"), as: UTF8.self)
        #expect(!saved.contains("secret"))
    }

    func isPass(_ verdict: SaslSession.Verdict) -> Bool { if case .pass = verdict { true } else { false } }
    func isClose(_ verdict: SaslSession.Verdict) -> Bool { if case .close = verdict { true } else { false } }
    func isAnswer(_ verdict: SaslSession.Verdict) -> Bool { if case .answer(_, nil) = verdict { true } else { false } }
    func closesAfterAnswer(_ verdict: SaslSession.Verdict) -> Bool { if case .answer(_, .some) = verdict { true } else { false } }
}
