/// TLS settings under Kafka's names, for SSL listeners. Keys and certificates are PEM files
/// (`ssl.keystore.type=PEM`): the keystore file holds the private key (encrypted with
/// `ssl.key.password`, or not) and the certificate chain; the truststore file the CA
/// certificates client certificates are checked against.
public struct TLSSettings: Sendable, Hashable {
    public enum ClientAuth: String, Sendable, Hashable {
        case none, requested, required
    }

    public var keystoreLocation: String?
    public var keyPassword: String?
    public var truststoreLocation: String?
    public var clientAuth: ClientAuth = .none
    /// `ssl.enabled.protocols`: TLSv1.2 and/or TLSv1.3.
    public var enabledProtocols: [String] = ["TLSv1.2", "TLSv1.3"]
    /// `ssl.principal.mapping.rules`: a client certificate's subject to a user name (`PrincipalMapping`).
    public var principalMappingRules = "DEFAULT"

    public init() {}

    static let names = [
        "ssl.keystore.type", "ssl.keystore.location", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.type",
        "ssl.truststore.location", "ssl.truststore.password", "ssl.client.auth", "ssl.enabled.protocols", "ssl.principal.mapping.rules",
    ]

    mutating func apply(name: String, value: String) throws(ConfigError) {
        switch name {
        case "ssl.keystore.type", "ssl.truststore.type":
            guard value.uppercased() == "PEM" else {
                throw ConfigError(name: name, value: value, reason: "only PEM is supported (convert a JKS or PKCS12 store with keytool/openssl)")
            }
        case "ssl.keystore.location": keystoreLocation = value
        case "ssl.key.password": keyPassword = value
        case "ssl.keystore.password", "ssl.truststore.password":
            // PEM stores have no store password (Kafka ignores it for PEM too).
            break
        case "ssl.truststore.location": truststoreLocation = value
        case "ssl.client.auth":
            guard let auth = ClientAuth(rawValue: value.lowercased()) else {
                throw ConfigError(name: name, value: value, reason: "must be none, requested or required")
            }
            clientAuth = auth
        case "ssl.enabled.protocols":
            let protocols = value.split(separator: ",").map { String($0).filter { !$0.isWhitespace } }
            guard !protocols.isEmpty, protocols.allSatisfy({ ["TLSv1.2", "TLSv1.3"].contains($0) }) else {
                throw ConfigError(name: name, value: value, reason: "must list TLSv1.2 and/or TLSv1.3")
            }
            enabledProtocols = protocols
        case "ssl.principal.mapping.rules":
            _ = try PrincipalMapping(parsing: value)
            principalMappingRules = value
        default:
            throw ConfigError(name: name, value: value, reason: "unknown TLS setting")
        }
    }

    var describedEntries: [(name: String, value: String, type: BrokerConfig.ValueType)] {
        [
            ("ssl.keystore.type", "PEM", .string), ("ssl.keystore.location", keystoreLocation ?? "", .string),
            ("ssl.truststore.type", "PEM", .string), ("ssl.truststore.location", truststoreLocation ?? "", .string),
            ("ssl.client.auth", clientAuth.rawValue, .string), ("ssl.enabled.protocols", enabledProtocols.joined(separator: ","), .list),
            ("ssl.principal.mapping.rules", principalMappingRules, .string),
        ]
    }
}
