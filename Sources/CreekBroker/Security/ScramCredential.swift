import Crypto
import Foundation

/// The SCRAM mechanisms Creek serves (RFC 5802 with RFC 7677's SHA-256, and SHA-512), with
/// the numbers Kafka's SCRAM credential APIs use for them.
public enum ScramMechanism: String, Sendable, CaseIterable, Codable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// The `mechanism` number of DescribeUserScramCredentials/AlterUserScramCredentials.
    public var wireValue: Int8 { self == .sha256 ? 1 : 2 }

    public init?(wireValue: Int8) {
        switch wireValue {
        case 1: self = .sha256
        case 2: self = .sha512
        default: return nil
        }
    }

    /// Kafka's bounds on the iteration count of a stored credential.
    public static let iterations: ClosedRange<Int32> = 4096...16384

    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        }
    }

    func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// RFC 5802's Hi(): PBKDF2 with this mechanism's HMAC and one output block.
    public func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int32) -> [UInt8] {
        var block = hmac(key: password, salt + [0, 0, 0, 1])
        var result = block
        for _ in 1..<max(1, Int(iterations)) {
            block = hmac(key: password, block)
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}

/// What Creek stores of a SCRAM user: the salt, the iteration count and the two keys
/// derived from the salted password (never the password, nor the salted password).
/// Invariant: `storedKey` is H(ClientKey) and `serverKey` is HMAC(SaltedPassword,
/// "Server Key") for the same salted password.
public struct ScramCredential: Sendable, Hashable, Codable {
    public var mechanism: ScramMechanism
    public var salt: [UInt8]
    public var iterations: Int32
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    /// The credential for a salted password, as AlterUserScramCredentials sends it.
    public init(mechanism: ScramMechanism, salt: [UInt8], iterations: Int32, saltedPassword: [UInt8]) {
        let clientKey = mechanism.hmac(key: saltedPassword, Array("Client Key".utf8))
        self.mechanism = mechanism
        self.salt = salt
        self.iterations = iterations
        self.storedKey = mechanism.hash(clientKey)
        self.serverKey = mechanism.hmac(key: saltedPassword, Array("Server Key".utf8))
    }

    /// The credential for a password, with a fresh random salt.
    public init(mechanism: ScramMechanism, password: String, iterations: Int32 = 8192) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let salted = mechanism.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        self.init(mechanism: mechanism, salt: salt, iterations: iterations, saltedPassword: salted)
    }

    /// True when `password` is the one this credential was made from (used by PLAIN).
    func matches(password: String) -> Bool {
        let salted = mechanism.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        let candidate = ScramCredential(mechanism: mechanism, salt: salt, iterations: iterations, saltedPassword: salted)
        return constantTimeEqual(candidate.storedKey, storedKey)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
