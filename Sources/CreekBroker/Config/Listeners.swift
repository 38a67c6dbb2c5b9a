import Foundation

/// Kafka's listener model: named listeners (`listeners=INTERNAL://127.0.0.1:9092,EXTERNAL://0.0.0.0:9093`),
/// the address each advertises to its clients (`advertised.listeners`, by name), and each
/// name's security protocol (`listener.security.protocol.map`). A client is told the
/// advertised address of the listener it connected to.
public struct Listener: Sendable, Hashable {
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }
}

/// A host and port, as an advertised address.
public struct HostPort: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Kafka's security protocols for a listener.
public enum SecurityProtocol: String, Sendable, Hashable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSSL = "SASL_SSL"

    /// True when connections are encrypted with TLS (SSL, SASL_SSL).
    public var usesTLS: Bool { self == .ssl || self == .saslSSL }
    /// True when a client must log in with SASL before any other request (SASL_*).
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
}

extension BrokerConfig {
    /// Kafka's default map: each protocol's name maps to itself.
    static let defaultSecurityProtocolMap = Dictionary(uniqueKeysWithValues: SecurityProtocol.allCases.map { ($0.rawValue, $0) })

    /// `listeners`: `NAME://HOST:PORT` entries, comma-separated (a bare `HOST:PORT` is the
    /// PLAINTEXT listener). Names are unique, as are non-zero ports.
    static func parseListeners(_ name: String, _ value: String) throws(ConfigError) -> [Listener] {
        var listeners: [Listener] = []
        for entry in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let listenerName = entry.components(separatedBy: "://").count == 2 ? entry.components(separatedBy: "://")[0].uppercased() : "PLAINTEXT"
            guard let (host, port) = hostPort(entry), !listenerName.isEmpty else {
                throw ConfigError(name: name, value: value, reason: "each entry must be NAME://HOST:PORT")
            }
            guard !listeners.contains(where: { $0.name == listenerName }) else {
                throw ConfigError(name: name, value: value, reason: "listener name \(listenerName) appears twice")
            }
            guard port == 0 || !listeners.contains(where: { $0.port == port }) else {
                throw ConfigError(name: name, value: value, reason: "port \(port) appears twice")
            }
            listeners.append(Listener(name: listenerName, host: host, port: port))
        }
        guard !listeners.isEmpty else { throw ConfigError(name: name, value: value, reason: "needs at least one NAME://HOST:PORT") }
        return listeners
    }

    /// `advertised.listeners`: `NAME://HOST:PORT` entries, by listener name.
    static func parseAdvertised(_ name: String, _ value: String) throws(ConfigError) -> [String: HostPort] {
        var advertised: [String: HostPort] = [:]
        for listener in try parseListeners(name, value) {
            advertised[listener.name] = HostPort(host: listener.host, port: listener.port)
        }
        return advertised
    }

    /// `listener.security.protocol.map`: `NAME:PROTOCOL` pairs.
    static func parseProtocolMap(_ name: String, _ value: String) throws(ConfigError) -> [String: SecurityProtocol] {
        var map: [String: SecurityProtocol] = [:]
        for pair in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !pair.isEmpty {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let proto = SecurityProtocol(rawValue: parts[1].uppercased()) else {
                throw ConfigError(name: name, value: value, reason: "each entry must be NAME:PROTOCOL with PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
            }
            map[parts[0].uppercased()] = proto
        }
        return map
    }

    /// The security protocol of a listener (nil when the map does not name it).
    public func securityProtocol(of listener: Listener) -> SecurityProtocol? {
        securityProtocolMap[listener.name]
    }

    /// The address a listener's clients are told: its advertised one, else where it listens.
    public func advertised(for listener: Listener) -> HostPort {
        advertisedListeners[listener.name] ?? HostPort(host: listener.host, port: listener.port)
    }

    /// Checks the listener settings together (they may be given in any order): every
    /// listener has a protocol Creek serves, every advertised name is a listener, the
    /// inter-broker name (reserved for cluster mode) too.
    public func validateListeners() throws(ConfigError) {
        for listener in listeners {
            guard let proto = securityProtocol(of: listener) else {
                throw ConfigError(name: "listener.security.protocol.map", value: "", reason: "listener \(listener.name) has no security protocol; add \(listener.name):PLAINTEXT (or another protocol)")
            }
            switch proto {
            case .plaintext:
                break
            case .ssl, .saslSSL:
                guard tls.keystoreLocation != nil else {
                    throw ConfigError(name: "ssl.keystore.location", value: "", reason: "listener \(listener.name) is \(proto.rawValue): set ssl.keystore.location to a PEM file with the key and certificate chain")
                }
                if tls.clientAuth != .none && tls.truststoreLocation == nil {
                    throw ConfigError(name: "ssl.truststore.location", value: "", reason: "ssl.client.auth=\(tls.clientAuth.rawValue) needs a PEM truststore of the CAs that sign client certificates")
                }
            case .saslPlaintext:
                break
            }
        }
        for name in advertisedListeners.keys where !listeners.contains(where: { $0.name == name }) {
            throw ConfigError(name: "advertised.listeners", value: name, reason: "\(name) is not one of the listeners")
        }
        if let interBrokerListenerName, !listeners.contains(where: { $0.name == interBrokerListenerName }) {
            throw ConfigError(name: "inter.broker.listener.name", value: interBrokerListenerName, reason: "not one of the listeners")
        }
    }
}
