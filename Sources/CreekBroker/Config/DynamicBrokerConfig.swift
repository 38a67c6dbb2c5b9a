import CreekStorage
import Foundation
import KafkaProtocol
import NIOConcurrencyHelpers

/// Broker settings changed at run time through IncrementalAlterConfigs on the broker
/// resource (as `kafka-configs.sh --alter --entity-type brokers` does): the defaults of
/// topic settings (`log.retention.ms`, `log.segment.bytes`, `message.max.bytes`, …), which
/// Kafka also lets change without a restart. Overrides are saved in
/// `meta/broker-configs.json` (atomic rewrite) before they take effect and are applied over
/// the static configuration (command line, properties file) at every start.
///
/// Invariant: the registry's configuration is always `static` with `overrides` applied.
public final class DynamicBrokerConfig: Sendable {
    /// The settings that may change at run time.
    public static let names: Set<String> = Set(TopicConfigs.names.map(\.broker))

    public let staticConfig: BrokerConfig
    private let overridesBox: NIOLockedValueBox<[String: String]>
    private let files: any FileOperations
    private let gate = ChangeGate()

    public var overrides: [String: String] { overridesBox.withLockedValue { $0 } }

    static func path(dataDirectory: String) -> String { dataDirectory + "/meta/broker-configs.json" }

    /// Reads the saved overrides and returns them with the configuration they make. A saved
    /// value that is no longer valid is dropped (and reported in `rejected`).
    /// The saved overrides, the config with them applied, and the ones rejected.
    typealias Loaded = (overrides: [String: String], config: BrokerConfig, rejected: [String])

    static func load(staticConfig: BrokerConfig, files: any FileOperations) throws(StorageError) -> Loaded {
        let path = path(dataDirectory: staticConfig.dataDirectory)
        guard files.exists(path) else { return ([:], staticConfig, []) }
        let bytes = try files.readAll(path)
        let saved = (try? JSONDecoder().decode([String: String].self, from: Data(bytes))) ?? [:]
        var config = staticConfig
        var kept: [String: String] = [:]
        var rejected: [String] = []
        for (name, value) in saved.sorted(by: { $0.key < $1.key }) {
            do {
                guard names.contains(name) else { throw ConfigError(name: name, value: value, reason: "not a dynamic setting") }
                try config.apply(name: name, value: value)
                kept[name] = value
            } catch {
                rejected.append("\(error)")
            }
        }
        return (kept, config, rejected)
    }

    init(staticConfig: BrokerConfig, overrides: [String: String], files: any FileOperations) {
        self.staticConfig = staticConfig
        self.overridesBox = NIOLockedValueBox(overrides)
        self.files = files
    }

    /// One requested change: IncrementalAlterConfigs' SET (0), DELETE (1), APPEND (2),
    /// SUBTRACT (3).
    public struct Change: Sendable {
        public var name: String
        public var operation: Int8
        public var value: String?
    }

    /// Validates `changes` against the current overrides and, unless `validateOnly`, saves
    /// them and puts the new configuration in force through `topics`.
    func alter(_ changes: [Change], validateOnly: Bool, topics: TopicRegistry) async -> (KafkaErrorCode, String?) {
        await gate.acquire()
        let result = await alterSerialized(changes, validateOnly: validateOnly, topics: topics)
        await gate.release()
        return result
    }

    private func alterSerialized(_ changes: [Change], validateOnly: Bool, topics: TopicRegistry) async -> (KafkaErrorCode, String?) {
        var updated = overrides
        for change in changes {
            guard BrokerConfig.names.contains(change.name) else { return (.invalidConfig, "Unknown broker config \(change.name).") }
            guard Self.names.contains(change.name) else {
                return (.invalidRequest, "\(change.name) cannot be changed while the broker runs; set it with --set at startup. Dynamic: \(Self.names.sorted().joined(separator: ", ")).")
            }
            switch change.operation {
            case 0, 2:
                guard let value = change.value else { return (.invalidConfig, "SET \(change.name) needs a value.") }
                updated[change.name] = value
            case 1:
                updated[change.name] = nil
            case 3:
                break
            default:
                return (.invalidConfig, "Unknown config operation \(change.operation).")
            }
        }
        var config = staticConfig
        do {
            for (name, value) in updated.sorted(by: { $0.key < $1.key }) { try config.apply(name: name, value: value) }
        } catch {
            return (.invalidConfig, "\(error)")
        }
        if validateOnly { return (.none, nil) }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let bytes = Array(try encoder.encode(updated))
            try files.writeAtomically(bytes, to: Self.path(dataDirectory: staticConfig.dataDirectory))
        } catch {
            return (.kafkaStorageError, "Could not save the broker configs: \(error)")
        }
        overridesBox.withLockedValue { $0 = updated }
        await topics.apply(brokerConfig: config)
        return (.none, nil)
    }
}
