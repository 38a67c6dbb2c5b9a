@testable import CreekBroker
import CreekSimulation
import Testing

/// Client quotas: Kafka's precedence of entities, the token bucket's throttle times, and
/// quotas kept across a reopen (default entities included).
@Suite("Client quotas")
struct QuotaTests {
    let files = SimulatedFileSystem()

    func quotas(_ changes: [ClientQuotas.Change]) async throws -> ClientQuotas {
        try files.makeDirectoryDurably("/data")
        let quotas = try ClientQuotas(dataDirectory: "/data", files: files)
        try await quotas.apply(changes)
        return quotas
    }

    @Test func theMostSpecificEntityWins() async throws {
        let quotas = try await quotas([
            .init(entity: .init(user: .some("alice"), clientId: .some("app")), key: "producer_byte_rate", value: 1),
            .init(entity: .init(user: .some("alice")), key: "producer_byte_rate", value: 2),
            .init(entity: .init(user: .some(nil)), key: "producer_byte_rate", value: 3),
            .init(entity: .init(clientId: .some("app")), key: "producer_byte_rate", value: 4),
            .init(entity: .init(clientId: .some(nil)), key: "consumer_byte_rate", value: 5),
        ])
        #expect(quotas.quota("producer_byte_rate", user: "alice", clientId: "app") == 1)
        #expect(quotas.quota("producer_byte_rate", user: "alice", clientId: "other") == 2)
        #expect(quotas.quota("producer_byte_rate", user: "bob", clientId: "app") == 3, "the default user outranks a client id")
        #expect(quotas.quota("consumer_byte_rate", user: "bob", clientId: "x") == 5)
        #expect(quotas.quota("request_percentage", user: "bob", clientId: "x") == nil)
        let reopened = try ClientQuotas(dataDirectory: "/data", files: files)
        #expect(reopened.entries == quotas.entries)
    }

    @Test func overTheRateMeansAThrottleForTheDebt() async throws {
        let quotas = try await quotas([.init(entity: .init(clientId: .some("slow")), key: "producer_byte_rate", value: 1000)])
        let enforcer = QuotaEnforcer(quotas: quotas)
        let second: Int64 = 1_000_000_000
        #expect(enforcer.record("producer_byte_rate", principal: "User:ANONYMOUS", clientId: "slow", bytes: 1000, nowNanos: 0) == 0, "one second of burst")
        #expect(enforcer.record("producer_byte_rate", principal: "User:ANONYMOUS", clientId: "slow", bytes: 2000, nowNanos: 0) == 2000)
        #expect(enforcer.blockedUntil(principal: "User:ANONYMOUS", clientId: "slow") == 2 * second)
        #expect(enforcer.record("producer_byte_rate", principal: "User:ANONYMOUS", clientId: "slow", bytes: 0, nowNanos: 3 * second) == 0, "the debt is repaid")
        #expect(enforcer.record("producer_byte_rate", principal: "User:ANONYMOUS", clientId: "fast", bytes: 1 << 30, nowNanos: 0) == 0)
        #expect(enforcer.record("producer_byte_rate", principal: "User:ANONYMOUS", clientId: "slow", bytes: 1 << 30, nowNanos: 3 * second) == Int32(QuotaEnforcer.maxThrottleMs))
    }
}
