public import CreekStorage
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The SCRAM credentials of every user, by user name and mechanism, saved in
/// `meta/scram-credentials.json` (atomic, fsynced rewrite) before a change takes effect.
/// PLAIN logins are checked against the same credentials, so no password is stored.
///
/// Invariant: what `credential(user:mechanism:)` returns is what the file holds.
public final class CredentialStore: Sendable {
    typealias Users = [String: [ScramMechanism: ScramCredential]]
    let document: MetaDocument<Users>

    static func path(dataDirectory: String) -> String { dataDirectory + "/meta/scram-credentials.json" }

    /// Reads the saved credentials (none when the file does not exist).
    public init(dataDirectory: String, files: any FileOperations) throws(StorageError) {
        let path = Self.path(dataDirectory: dataDirectory)
        document = try .reading(name: "scram-credentials", path: path, files: files, empty: [:],
                                encode: { users throws(StorageError) in try Self.encode(users, path: path) },
                                decode: { bytes throws(StorageError) in try Self.decode(bytes, path: path) })
    }

    /// An empty store that saves to `dataDirectory` on its first change (for brokers built
    /// without `Broker.open`, as tests do).
    init(unsavedIn dataDirectory: String, files: any FileOperations) {
        let path = Self.path(dataDirectory: dataDirectory)
        document = MetaDocument(name: "scram-credentials", path: path, files: files, initial: [:],
                                encode: { users throws(StorageError) in try Self.encode(users, path: path) },
                                decode: { bytes throws(StorageError) in try Self.decode(bytes, path: path) })
    }

    public func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        document.value[user]?[mechanism]
    }

    /// Every user's credentials, by user name.
    public var all: [String: [ScramMechanism: ScramCredential]] { document.value }

    /// Saves the command line's users (`--add-scram`) before any client can connect.
    func bootstrap(_ users: [ScramBootstrap], logger: Logger) throws(StorageError) {
        guard !users.isEmpty else { return }
        try document.changeAtStart { Self.apply(users.map(Self.upsert), to: &$0) }
        for user in users {
            logger.notice("SCRAM credential saved from the command line", metadata: ["user": "\(user.user)", "mechanism": "\(user.mechanism.rawValue)"])
        }
    }

    /// One change of a batch: set a user's credential for a mechanism, or delete it.
    public enum Change: Sendable {
        case upsert(user: String, ScramCredential)
        case delete(user: String, ScramMechanism)
    }

    /// Applies `changes` together and saves them; nothing changes if saving fails.
    public func apply(_ changes: [Change]) async throws(StorageError) {
        try await document.change { Self.apply(changes, to: &$0) }
    }

    /// In a cluster: the credentials every broker shares, this broker's command-line users
    /// (`--add-scram`) saved there too.
    func share(with documents: any SharedDocuments, bootstrap users: [ScramBootstrap]) async throws(StorageError) {
        try await document.share(with: documents)
        if !users.isEmpty { try await apply(users.map(Self.upsert)) }
    }

    private static func upsert(_ user: ScramBootstrap) -> Change {
        .upsert(user: user.user, ScramCredential(mechanism: user.mechanism, password: user.password, iterations: user.iterations))
    }

    private static func apply(_ changes: [Change], to users: inout Users) {
        for change in changes {
            switch change {
            case .upsert(let user, let credential):
                users[user, default: [:]][credential.mechanism] = credential
            case .delete(let user, let mechanism):
                users[user]?[mechanism] = nil
                if users[user]?.isEmpty == true { users[user] = nil }
            }
        }
    }

    private static func encode(_ users: Users, path: String) throws(StorageError) -> [UInt8] {
        let entries = users.sorted { $0.key < $1.key }.flatMap { user, byMechanism in
            byMechanism.values.sorted { $0.mechanism.rawValue < $1.mechanism.rawValue }.map { SavedCredentials.Entry(user: user, $0) }
        }
        return try MetaFile.encode(SavedCredentials(version: 1, credentials: entries), path: path)
    }

    private static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> Users {
        var users: Users = [:]
        for entry in try MetaFile.decode(SavedCredentials.self, bytes, path: path, what: "a SCRAM credentials file").credentials {
            guard let credential = entry.credential else {
                throw StorageError.corruptCatalog(path: path, reason: "a credential of \(entry.user) is malformed")
            }
            users[entry.user, default: [:]][credential.mechanism] = credential
        }
        return users
    }
}

/// The file format of `meta/scram-credentials.json`: keys and salts in base64.
private struct SavedCredentials: Codable {
    struct Entry: Codable {
        var user: String
        var mechanism: String
        var iterations: Int32
        var salt: String
        var storedKey: String
        var serverKey: String

        init(user: String, _ credential: ScramCredential) {
            self.user = user
            mechanism = credential.mechanism.rawValue
            iterations = credential.iterations
            salt = Data(credential.salt).base64EncodedString()
            storedKey = Data(credential.storedKey).base64EncodedString()
            serverKey = Data(credential.serverKey).base64EncodedString()
        }

        var credential: ScramCredential? {
            guard let mechanism = ScramMechanism(rawValue: mechanism), ScramMechanism.iterations.contains(iterations),
                  let salt = Data(base64Encoded: salt), let storedKey = Data(base64Encoded: storedKey),
                  let serverKey = Data(base64Encoded: serverKey)
            else { return nil }
            var credential = ScramCredential(mechanism: mechanism, salt: Array(salt), iterations: iterations, saltedPassword: [])
            credential.storedKey = Array(storedKey)
            credential.serverKey = Array(serverKey)
            return credential
        }
    }

    var version: Int
    var credentials: [Entry]
}
