/// Settings shared by the producer, consumer and admin client (the Java client's names in
/// camel case).
public struct ClientConfig: Sendable {
    /// `host:port` of one or more brokers to learn the cluster from.
    public var bootstrapServers: [String]
    public var clientId = "creek-swift"
    public var requestTimeout: Duration = .seconds(30)
    /// First backoff after a retriable error; doubled per attempt up to `retryBackoffMax`.
    public var retryBackoff: Duration = .milliseconds(100)
    public var retryBackoffMax: Duration = .seconds(1)
    /// How long a call keeps retrying retriable errors before it fails.
    public var deliveryTimeout: Duration = .seconds(120)
    /// Metadata older than this is refreshed before use.
    public var metadataMaxAge: Duration = .seconds(300)
    /// Event-loop threads for the client's connections.
    public var threads = 1
    /// Metadata requests ask the broker to create missing topics (the producer's default,
    /// as in the Java client; the broker decides with `auto.create.topics.enable`).
    public var allowAutoTopicCreation = false
    /// TLS and SASL (`security.protocol`, `sasl.*`, `ssl.*`); plaintext by default.
    public var security = ClientSecurity()

    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }
}
