import KafkaProtocol
import NIOCore

/// One connection's SASL login on a SASL_PLAINTEXT or SASL_SSL listener, as a value the
/// connection drives: each request goes through `admit` before anything else sees it.
/// Before authentication only ApiVersions, SaslHandshake and SaslAuthenticate are allowed
/// (in that order); anything else closes the connection. SaslHandshake v0 is followed by
/// raw SASL tokens without Kafka framing (`expectsRawToken`). A failed login is answered
/// after `connection.failed.authentication.delay.ms` and the connection is closed.
/// With `connections.max.reauth.ms` the session expires: the client must re-authenticate
/// (KIP-368: SaslHandshake and SaslAuthenticate again, as the same principal) or its next
/// request closes the connection.
///
/// Invariant: `principal` is nil until a login succeeded, and never changes afterwards.
struct SaslSession {
    enum Verdict {
        /// Serve the request as `principal`.
        case pass
        /// Answer with this frame; with `thenClose` after the failure delay, then close.
        case answer(KafkaWriter, thenClose: String?)
        /// Close the connection at once.
        case close(String)
    }

    private enum Step {
        case awaitingHandshake
        case handshaken(mechanism: String, version: Int16)
        case scram(ScramServerExchange, handshakeVersion: Int16)
        case done
        case failed
    }

    private let settings: SASLSettings
    private let credentials: CredentialStore
    private var step = Step.awaitingHandshake
    private(set) var principal: String?
    private var mechanismUsed: String?
    private var expiresAtNanos: Int64?

    init(settings: SASLSettings, credentials: CredentialStore) {
        self.settings = settings
        self.credentials = credentials
    }

    /// True after SaslHandshake v0: the next frame is a bare SASL token.
    var expectsRawToken: Bool {
        switch step {
        case .handshaken(_, let version): version == 0
        case .scram(_, let version): version == 0
        default: false
        }
    }

    var hasFailed: Bool {
        if case .failed = step { return true }
        return false
    }

    mutating func admit(_ framed: FramedRequest, nowNanos: Int64) -> Verdict {
        switch framed.apiKey {
        case .apiVersions:
            return .pass
        case .saslHandshake:
            return handshake(framed)
        case .saslAuthenticate:
            return authenticate(framed, nowNanos: nowNanos)
        default:
            guard principal != nil else {
                step = .failed
                return .close("\(framed.apiKey.name) before SASL authentication")
            }
            if let expiresAtNanos, nowNanos >= expiresAtNanos {
                step = .failed
                return .close("SASL session expired (connections.max.reauth.ms) without re-authentication")
            }
            return .pass
        }
    }

    // MARK: - SaslHandshake

    private mutating func handshake(_ framed: FramedRequest) -> Verdict {
        var body = framed.body
        guard SaslHandshakeRequest.validVersions.contains(framed.apiVersion),
              let request = try? SaslHandshakeRequest(from: &body, version: framed.apiVersion) else {
            step = .failed
            return .close("malformed SaslHandshake v\(framed.apiVersion)")
        }
        var response = SaslHandshakeResponse()
        response.mechanisms = settings.enabledMechanisms
        let reauthenticating = principal != nil
        switch step {
        case .awaitingHandshake, .done:
            break
        default:
            return failHandshake(framed, response, .illegalSaslState, "SaslHandshake out of order")
        }
        if reauthenticating && framed.apiVersion == 0 {
            return failHandshake(framed, response, .illegalSaslState, "re-authentication needs SaslHandshake v1")
        }
        let mechanism = request.mechanism.uppercased()
        guard settings.enabledMechanisms.contains(mechanism) else {
            return failHandshake(framed, response, .unsupportedSaslMechanism, "mechanism \(request.mechanism) is not enabled")
        }
        if reauthenticating, mechanismUsed != mechanism {
            return failHandshake(framed, response, .illegalSaslState, "re-authentication must use the same mechanism")
        }
        step = .handshaken(mechanism: mechanism, version: framed.apiVersion)
        return .answer(encode(response, framed), thenClose: nil)
    }

    private mutating func failHandshake(_ framed: FramedRequest, _ response: SaslHandshakeResponse, _ code: KafkaErrorCode, _ reason: String) -> Verdict {
        var response = response
        response.errorCode = code.rawValue
        return fail(encode(response, framed), code: code, reason)
    }

    // MARK: - SaslAuthenticate

    private mutating func authenticate(_ framed: FramedRequest, nowNanos: Int64) -> Verdict {
        var body = framed.body
        guard SaslAuthenticateRequest.validVersions.contains(framed.apiVersion),
              let request = try? SaslAuthenticateRequest(from: &body, version: framed.apiVersion) else {
            step = .failed
            return .close("malformed SaslAuthenticate v\(framed.apiVersion)")
        }
        var response = SaslAuthenticateResponse()
        switch step {
        case .handshaken(_, 1), .scram(_, 1):
            break
        default:
            return failAuthenticate(framed, response, .illegalSaslState, "SaslAuthenticate without a SaslHandshake v1 before it")
        }
        switch exchange(Array(request.authBytes.readableBytesView), nowNanos: nowNanos) {
        case .success(let token):
            response.authBytes = ByteBuffer(bytes: token)
            if case .done = step, let expiresAtNanos {
                response.sessionLifetimeMs = max(1, (expiresAtNanos - nowNanos) / 1_000_000)
            }
            return .answer(encode(response, framed), thenClose: nil)
        case .failure(let reason):
            return failAuthenticate(framed, response, .saslAuthenticationFailed, reason.reason)
        }
    }

    private mutating func failAuthenticate(_ framed: FramedRequest, _ response: SaslAuthenticateResponse, _ code: KafkaErrorCode, _ reason: String) -> Verdict {
        var response = response
        response.errorCode = code.rawValue
        response.errorMessage = reason
        return fail(encode(response, framed), code: code, reason)
    }

    /// A bare token after SaslHandshake v0: the answer is a bare token too.
    mutating func rawToken(_ frame: ByteBuffer, nowNanos: Int64) -> Verdict {
        switch exchange(Array(frame.readableBytesView), nowNanos: nowNanos) {
        case .success(let token):
            var writer = KafkaWriter(buffer: ByteBuffer())
            writer.writeKafkaBytes(ByteBuffer(bytes: token), compact: false)
            return .answer(writer, thenClose: nil)
        case .failure(let failure):
            step = .failed
            return .close("SASL authentication failed: \(failure.reason)")
        }
    }

    private struct LoginFailure: Error {
        let reason: String
    }

    /// Runs one token of the chosen mechanism; moves to `.done` when the login is complete.
    private mutating func exchange(_ token: [UInt8], nowNanos: Int64) -> Result<[UInt8], LoginFailure> {
        switch step {
        case .handshaken(let mechanism, _) where mechanism == "PLAIN":
            guard let login = PlainLogin(token) else { return .failure(LoginFailure(reason: "malformed PLAIN message")) }
            let known = ScramMechanism.allCases.compactMap { credentials.credential(user: login.user, mechanism: $0) }
            guard known.contains(where: { $0.matches(password: login.password) }) else {
                return .failure(LoginFailure(reason: "Authentication failed: Invalid username or password"))
            }
            return complete(user: login.user, mechanism: mechanism, nowNanos: nowNanos).map { [] }
        case .handshaken(let mechanism, let version):
            guard let scram = ScramMechanism(rawValue: mechanism) else { return .failure(LoginFailure(reason: "unknown mechanism")) }
            var exchange = ScramServerExchange(mechanism: scram)
            do {
                let serverFirst = try exchange.start(token) { credentials.credential(user: $0, mechanism: scram) }
                step = .scram(exchange, handshakeVersion: version)
                return .success(serverFirst)
            } catch {
                return .failure(LoginFailure(reason: Self.describe(error)))
            }
        case .scram(var exchange, _):
            do {
                let serverFinal = try exchange.finish(token)
                guard let user = exchange.authenticatedUser else { return .failure(LoginFailure(reason: "no user")) }
                return complete(user: user, mechanism: exchange.mechanism.rawValue, nowNanos: nowNanos).map { serverFinal }
            } catch {
                return .failure(LoginFailure(reason: Self.describe(error)))
            }
        default:
            return .failure(LoginFailure(reason: "no login in progress"))
        }
    }

    private mutating func complete(user: String, mechanism: String, nowNanos: Int64) -> Result<Void, LoginFailure> {
        let authenticated = "User:\(user)"
        if let principal, principal != authenticated {
            return .failure(LoginFailure(reason: "re-authentication as \(authenticated) on a connection of \(principal)"))
        }
        principal = authenticated
        mechanismUsed = mechanism
        step = .done
        expiresAtNanos = settings.maxReauthMs > 0 ? nowNanos + settings.maxReauthMs * 1_000_000 : nil
        return .success(())
    }

    private static func describe(_ failure: ScramServerExchange.Failure) -> String {
        switch failure {
        case .malformed(let what): "malformed SCRAM message: \(what)"
        case .unsupported(let what): "SCRAM \(what) is not supported"
        case .badProof: "Authentication failed: Invalid username or password"
        }
    }

    /// Ends the login: `frame` (the error response) goes out after the delay, then the close.
    private mutating func fail(_ frame: KafkaWriter, code: KafkaErrorCode, _ reason: String) -> Verdict {
        step = .failed
        return .answer(frame, thenClose: "\(code.name): \(reason)")
    }

    private func encode<Response: KafkaResponseMessage>(_ response: Response, _ framed: FramedRequest) -> KafkaWriter {
        KafkaWriter.encodeResponse(response, version: framed.apiVersion, correlationId: framed.correlationId)
    }
}

/// RFC 4616's PLAIN message: [authzid] NUL authcid NUL passwd. An authzid other than
/// the user itself is refused (Creek does not let one user act as another).
struct PlainLogin {
    let user: String
    let password: String

    init?(_ token: [UInt8]) {
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let authzid = String(bytes: parts[0], encoding: .utf8),
              let user = String(bytes: parts[1], encoding: .utf8), let password = String(bytes: parts[2], encoding: .utf8),
              !user.isEmpty, authzid.isEmpty || authzid == user
        else { return nil }
        self.user = user
        self.password = password
    }
}
