@testable import CreekBroker
@testable import CreekClient
import Testing

/// The client's SCRAM against the broker's: the right password logs in and the client
/// accepts the server's signature; a wrong password fails at the broker; a server that
/// does not know the credential cannot produce a signature the client accepts.
@Suite("SCRAM client against the broker's exchange")
struct ScramClientTests {
    @Test(arguments: [false, true])
    func rightPasswordLogsInBothWays(sha512: Bool) throws {
        let mechanism: ScramMechanism = sha512 ? .sha512 : .sha256
        let credential = ScramCredential(mechanism: mechanism, password: "pa,ss=word", iterations: 4096)
        var client = ScramClient(sha512: sha512, username: "al=ice,x", password: "pa,ss=word")
        var server = ScramServerExchange(mechanism: mechanism)
        let serverFirst = try server.start(client.first()) { $0 == "al=ice,x" ? credential : nil }
        let serverFinal = try server.finish(try client.final(serverFirst))
        try client.verify(serverFinal)
        #expect(server.authenticatedUser == "al=ice,x")
    }

    @Test func wrongPasswordFailsAndForgedSignaturesAreRefused() throws {
        let credential = ScramCredential(mechanism: .sha256, password: "right", iterations: 4096)
        var client = ScramClient(sha512: false, username: "bob", password: "wrong")
        var server = ScramServerExchange(mechanism: .sha256)
        let serverFirst = try server.start(client.first()) { _ in credential }
        #expect(throws: ScramServerExchange.Failure.badProof) { try server.finish(try client.final(serverFirst)) }
        // A server that answers with some other signature is not believed.
        var honest = ScramClient(sha512: false, username: "bob", password: "right")
        var other = ScramServerExchange(mechanism: .sha256)
        let first = try other.start(honest.first()) { _ in credential }
        _ = try honest.final(first)
        #expect(throws: KafkaClientError.self) { try honest.verify(Array("v=AAAA".utf8)) }
    }
}
