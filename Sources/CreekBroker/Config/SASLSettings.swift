/// SASL settings under Kafka's names, for SASL_PLAINTEXT and SASL_SSL listeners.
public struct SASLSettings: Sendable, Hashable {
    /// The mechanisms Creek can serve.
    public static let servable = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

    /// `sasl.enabled.mechanisms`, in the order SaslHandshake lists them.
    public var enabledMechanisms = SASLSettings.servable
    /// `connections.max.reauth.ms`: an authenticated session lasts this long before the
    /// client must re-authenticate on the same connection (KIP-368); 0 means forever.
    public var maxReauthMs: Int64 = 0
    /// `connection.failed.authentication.delay.ms`: how long a failed login waits before
    /// its error response and the close, to slow down password guessing.
    public var failedAuthenticationDelayMs: Int64 = 100

    public init() {}

    static let names = ["sasl.enabled.mechanisms", "connections.max.reauth.ms", "connection.failed.authentication.delay.ms"]

    mutating func apply(name: String, value: String) throws(ConfigError) {
        switch name {
        case "sasl.enabled.mechanisms":
            let mechanisms = value.split(separator: ",").map { $0.trimmedOfWhitespace.uppercased() }.filter { !$0.isEmpty }
            guard !mechanisms.isEmpty else { throw ConfigError(name: name, value: value, reason: "name at least one mechanism") }
            for mechanism in mechanisms where !Self.servable.contains(mechanism) {
                throw ConfigError(name: name, value: value, reason: "\(mechanism) is not served; Creek serves \(Self.servable.joined(separator: ", "))")
            }
            enabledMechanisms = mechanisms
        case "connections.max.reauth.ms":
            maxReauthMs = try BrokerConfig.integer(name, value, min: 0)
        case "connection.failed.authentication.delay.ms":
            failedAuthenticationDelayMs = try BrokerConfig.integer(name, value, min: 0, max: 60_000)
        default:
            throw ConfigError(name: name, value: value, reason: "unknown SASL setting")
        }
    }
}
