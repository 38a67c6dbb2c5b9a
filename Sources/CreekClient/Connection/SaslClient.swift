import Crypto
import Foundation
import KafkaProtocol
import NIOCore

/// The client side of a SASL login over SaslHandshake v1 and SaslAuthenticate: PLAIN
/// (RFC 4616) or SCRAM-SHA-256/512 (RFC 5802), checking the server's signature so a broker
/// that does not know the password cannot pretend it does.
struct SaslClient {
    let mechanism: String
    let username: String
    let password: String

    func authenticate(on connection: BrokerConnection, timeout: Duration) async throws {
        let handshakeVersion = try connection.version(of: .saslHandshake, supported: 1...1)
        let handshake = try await connection.send(SaslHandshakeRequest(mechanism: mechanism), version: handshakeVersion, timeout: timeout)
        try KafkaClientError.check(handshake.errorCode, "SASL handshake (\(mechanism); the broker offers \(handshake.mechanisms.joined(separator: ", ")))")
        let version = try connection.version(of: .saslAuthenticate, supported: 0...2)
        func round(_ token: [UInt8]) async throws -> [UInt8] {
            let response = try await connection.send(SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: token)), version: version, timeout: timeout)
            try KafkaClientError.check(response.errorCode, "SASL login as \(username)", message: response.errorMessage)
            return Array(response.authBytes.readableBytesView)
        }
        switch mechanism {
        case "PLAIN":
            _ = try await round(Array("\0\(username)\0\(password)".utf8))
        case "SCRAM-SHA-256", "SCRAM-SHA-512":
            var scram = ScramClient(sha512: mechanism == "SCRAM-SHA-512", username: username, password: password)
            let serverFirst = try await round(scram.first())
            let serverFinal = try await round(try scram.final(serverFirst))
            try scram.verify(serverFinal)
        default:
            throw KafkaClientError.connection("SASL mechanism \(mechanism) is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
        }
    }
}

/// One SCRAM exchange, client side.
struct ScramClient {
    let sha512: Bool
    let username: String
    let password: String
    private let nonce: String
    private var firstBare = ""
    private var serverSignature: [UInt8] = []

    init(sha512: Bool, username: String, password: String) {
        self.sha512 = sha512
        self.username = username
        self.password = password
        var generator = SystemRandomNumberGenerator()
        nonce = Data((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }

    mutating func first() -> [UInt8] {
        let name = username.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        firstBare = "n=\(name),r=\(nonce)"
        return Array("n,,\(firstBare)".utf8)
    }

    mutating func final(_ serverFirst: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: serverFirst, as: UTF8.self)
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") where part.count >= 2 {
            fields[String(part.prefix(1))] = String(part.dropFirst(2))
        }
        guard let combined = fields["r"], combined.hasPrefix(nonce), let saltText = fields["s"], let salt = Data(base64Encoded: saltText),
              let iterations = fields["i"].flatMap(Int.init), (1...1_000_000).contains(iterations)
        else { throw KafkaClientError.connection("malformed SCRAM server-first message") }
        let salted = saltedPassword(Array(salt), iterations: iterations)
        let clientKey = hmac(salted, Array("Client Key".utf8))
        let withoutProof = "c=biws,r=\(combined)"
        let authMessage = Array("\(firstBare),\(text),\(withoutProof)".utf8)
        let signature = hmac(hash(clientKey), authMessage)
        let proof = Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
        serverSignature = hmac(hmac(salted, Array("Server Key".utf8)), authMessage)
        return Array("\(withoutProof),p=\(proof)".utf8)
    }

    func verify(_ serverFinal: [UInt8]) throws {
        let text = String(decoding: serverFinal, as: UTF8.self)
        guard text.hasPrefix("v="), let signature = Data(base64Encoded: String(text.dropFirst(2))), Array(signature) == serverSignature else {
            throw KafkaClientError.connection("the broker's SCRAM signature is wrong: it does not know this user's credential")
        }
    }

    private func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        sha512 ? Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
            : Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    private func hash(_ data: [UInt8]) -> [UInt8] {
        sha512 ? Array(SHA512.hash(data: data)) : Array(SHA256.hash(data: data))
    }

    private func saltedPassword(_ salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = Array(password.utf8)
        var block = hmac(key, salt + [0, 0, 0, 1])
        var result = block
        for _ in 1..<iterations {
            block = hmac(key, block)
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}
