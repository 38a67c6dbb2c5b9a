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
    private let users: NIOLockedValueBox<[String: [ScramMechanism: ScramCredential]]>
    private let files: any FileOperations
    private let path: String
    private let gate = ChangeGate()

    static func path(dataDirectory: String) -> String { dataDirectory + "/meta/scram-credentials.json" }

    /// Reads the saved credentials (none when the file does not exist).
    public init(dataDirectory: String, files: any FileOperations) throws(StorageError) {
        self.files = files
        self.path = Self.path(dataDirectory: dataDirectory)
        var loaded: [String: [ScramMechanism: ScramCredential]] = [:]
        if let saved = try MetaFile.load(SavedCredentials.self, path: path, files: files, what: "a SCRAM credentials file") {
            for entry in saved.credentials {
                guard let credential = entry.credential else {
                    throw StorageError.corruptCatalog(path: path, reason: "a credential of \(entry.user) is malformed")
                }
                loaded[entry.user, default: [:]][credential.mechanism] = credential
            }
        }
        users = NIOLockedValueBox(loaded)
    }

    /// An empty store that saves to `dataDirectory` on its first change (for brokers built
    /// without `Broker.open`, as tests do).
    init(unsavedIn dataDirectory: String, files: any FileOperations) {
        self.files = files
        self.path = Self.path(dataDirectory: dataDirectory)
        users = NIOLockedValueBox([:])
    }

    public func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        users.withLockedValue { $0[user]?[mechanism] }
    }

    /// Every user's credentials, by user name.
    public var all: [String: [ScramMechanism: ScramCredential]] { users.withLockedValue { $0 } }

    /// Saves the command line's users (`--add-scram`) before any client can connect.
    func bootstrap(_ users: [ScramBootstrap], logger: Logger) throws(StorageError) {
        guard !users.isEmpty else { return }
        try applySerialized(users.map { .upsert(user: $0.user, ScramCredential(mechanism: $0.mechanism, password: $0.password, iterations: $0.iterations)) })
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
        await gate.acquire()
        var failure: StorageError?
        do {
            try applySerialized(changes)
        } catch {
            failure = error
        }
        await gate.release()
        if let failure { throw failure }
    }

    private func applySerialized(_ changes: [Change]) throws(StorageError) {
        var updated = all
        for change in changes {
            switch change {
            case .upsert(let user, let credential):
                updated[user, default: [:]][credential.mechanism] = credential
            case .delete(let user, let mechanism):
                updated[user]?[mechanism] = nil
                if updated[user]?.isEmpty == true { updated[user] = nil }
            }
        }
        try save(updated)
        users.withLockedValue { $0 = updated }
    }

    private func save(_ credentials: [String: [ScramMechanism: ScramCredential]]) throws(StorageError) {
        let entries = credentials.sorted { $0.key < $1.key }.flatMap { user, byMechanism in
            byMechanism.values.sorted { $0.mechanism.rawValue < $1.mechanism.rawValue }.map { SavedCredentials.Entry(user: user, $0) }
        }
        try MetaFile.save(SavedCredentials(version: 1, credentials: entries), path: path, files: files)
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
