public import KafkaProtocol

/// What the broker decided for one request; the connection carries it out in request order.
public enum RequestOutcome: Sendable {
    /// Send this response frame.
    case respond(KafkaWriter)
    /// Send nothing (Produce with acks=0).
    case noResponse
    /// Log the reason and close the connection.
    case close(String)
    /// Send this response frame, then log the reason and close (a failed SASL login).
    case respondThenClose(KafkaWriter, String)
}

/// How a request proceeds after its ordered part ran: finished, or a completion that
/// may run concurrently with the connection's next requests (a long-poll Fetch, a
/// Produce waiting for its fsync). Responses still leave in request order.
public enum Dispatch: Sendable {
    case done(RequestOutcome)
    case later(@Sendable () async -> RequestOutcome)
}

/// The request-level facts a handler may need besides the body.
public struct RequestContext: Sendable {
    public var apiKey: ApiKey
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    /// `host:port` of the peer, for log lines.
    public var peer: String
    /// The listener the request came in on.
    public var listener: String = "PLAINTEXT"
    /// Who sent it: `User:NAME` after a SASL login, `User:ANONYMOUS` otherwise.
    public var principal: String = KafkaPrincipal.anonymous

    /// The peer's address without its port (what ACL host fields match).
    public var host: String {
        guard let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }
}

extension RequestContext {
    /// The context of a request that came in on `listener` from `peer`, sent by `principal`.
    public init(_ framed: FramedRequest, peer: String, listener: String, principal: String) {
        self.init(
            apiKey: framed.apiKey, apiVersion: framed.apiVersion, correlationId: framed.correlationId,
            clientId: framed.header.clientId, peer: peer, listener: listener, principal: principal
        )
    }
}

/// Kafka's principal names (`TYPE:NAME`).
public enum KafkaPrincipal {
    public static let anonymous = "User:ANONYMOUS"
}
