import Foundation

/// The server side of one SCRAM exchange (RFC 5802): client-first message in, server-first
/// out; client-final in, server-final out. An unknown user gets a made-up salt and fails
/// only at the proof, exactly as a wrong password does, so user names cannot be probed.
///
/// Invariant: `authenticatedUser` is set only after a client proof matched the stored key.
struct ScramServerExchange {
    enum Failure: Error, Equatable {
        case malformed(String)
        case unsupported(String)
        case badProof
    }

    let mechanism: ScramMechanism
    private var credential: ScramCredential?
    private var user = ""
    private var gs2Header = ""
    private var clientFirstBare = ""
    private var serverFirst = ""
    private var nonce = ""
    private(set) var authenticatedUser: String?

    init(mechanism: ScramMechanism) {
        self.mechanism = mechanism
    }

    /// Reads the client-first message and returns the server-first message.
    mutating func start(_ message: [UInt8], lookup: (String) -> ScramCredential?) throws(Failure) -> [UInt8] {
        guard let text = String(bytes: message, encoding: .utf8) else { throw .malformed("not UTF-8") }
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected gs2-header and client-first-message-bare") }
        switch parts[0] {
        case "n", "y": break
        case _ where parts[0].hasPrefix("p="): throw .unsupported("channel binding")
        default: throw .malformed("bad gs2 flag")
        }
        gs2Header = "\(parts[0]),\(parts[1]),"
        clientFirstBare = String(parts[2])
        let attributes = try Self.attributes(clientFirstBare)
        guard attributes.count >= 2, attributes[0].key == "n", attributes[1].key == "r", !attributes[1].value.isEmpty else {
            throw .malformed("client-first-message-bare must start with n= and r=")
        }
        if attributes.dropFirst(2).contains(where: { $0.key == "tokenauth" && $0.value == "true" }) {
            throw .unsupported("delegation tokens")
        }
        guard let name = Self.unescape(attributes[0].value), !name.isEmpty else { throw .malformed("bad user name") }
        user = name
        credential = lookup(name)
        let salt = credential?.salt ?? Self.decoySalt(for: name)
        let iterations = credential?.iterations ?? 4096
        var generator = SystemRandomNumberGenerator()
        let serverNonce = Data((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        nonce = attributes[1].value + serverNonce
        serverFirst = "r=\(nonce),s=\(Data(salt).base64EncodedString()),i=\(iterations)"
        return Array(serverFirst.utf8)
    }

    /// Reads the client-final message; returns the server-final message when the proof is right.
    mutating func finish(_ message: [UInt8]) throws(Failure) -> [UInt8] {
        guard let text = String(bytes: message, encoding: .utf8) else { throw .malformed("not UTF-8") }
        guard let proofStart = text.range(of: ",p=", options: .backwards) else { throw .malformed("no proof") }
        let withoutProof = String(text[..<proofStart.lowerBound])
        let attributes = try Self.attributes(withoutProof)
        guard attributes.count >= 2, attributes[0].key == "c", attributes[1].key == "r" else {
            throw .malformed("client-final-message must start with c= and r=")
        }
        guard let binding = Data(base64Encoded: attributes[0].value), binding == Data(gs2Header.utf8) else {
            throw .malformed("channel binding does not match the gs2 header")
        }
        guard attributes[1].value == nonce else { throw .malformed("nonce does not match") }
        guard let proof = Data(base64Encoded: String(text[proofStart.upperBound...])) else { throw .malformed("proof is not base64") }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        guard let credential else { throw .badProof }
        let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
        guard proof.count == clientSignature.count else { throw .badProof }
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        guard constantTimeEqual(mechanism.hash(clientKey), credential.storedKey) else { throw .badProof }
        authenticatedUser = user
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        return Array("v=\(Data(serverSignature).base64EncodedString())".utf8)
    }

    private static func attributes(_ text: String) throws(Failure) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "="), equals != part.startIndex else { throw .malformed("bad attribute") }
            result.append((String(part[..<equals]), String(part[part.index(after: equals)...])))
        }
        return result
    }

    /// RFC 5802's saslname: "=2C" is a comma and "=3D" an equals sign; any other "=" is invalid.
    static func unescape(_ name: String) -> String? {
        var result = ""
        var rest = Substring(name)
        while let equals = rest.firstIndex(of: "=") {
            result += rest[..<equals]
            let code = rest[equals...].prefix(3)
            switch code {
            case "=2C": result += ","
            case "=3D": result += "="
            default: return nil
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        return result + rest
    }

    /// A salt for a user that does not exist, stable for the process so that two attempts
    /// look like the same (absent) user's.
    private static func decoySalt(for user: String) -> [UInt8] {
        Array(ScramMechanism.sha256.hmac(key: decoyKey, Array(user.utf8)).prefix(24))
    }

    private static let decoyKey: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()
}
