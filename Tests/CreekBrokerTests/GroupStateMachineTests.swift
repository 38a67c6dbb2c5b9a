import CreekSimulation
import CreekBroker
import KafkaProtocol
import NIOCore
import Testing

/// Drives `GroupStateMachine` with plain values: no sockets, no clock but `now`.
struct GroupHarness {
    var group: GroupStateMachine
    var now: Int64 = 1_000
    var token = 0
    var joins: [Int: JoinGroupOutcome] = [:]
    var syncs: [Int: SyncGroupOutcome] = [:]

    init(delay: Int64 = 0, maxSize: Int = .max) {
        var settings = GroupStateMachine.Settings()
        settings.initialRebalanceDelayMs = delay
        settings.maxSize = maxSize
        group = GroupStateMachine(groupId: "g", settings: settings, nowMs: 1_000)
    }

    mutating func record(_ actions: [GroupAction]) {
        for action in actions {
            switch action {
            case .completeJoin(let token, let outcome): joins[token] = outcome
            case .completeSync(let token, let outcome): syncs[token] = outcome
            }
        }
    }

    /// Sends a JoinGroup and returns its token (the outcome may come later).
    mutating func join(_ memberId: String = "", instance: String? = nil, protocols: [String] = ["range"],
                       rebalanceTimeout: Int32 = 10_000, v4: Bool = true) -> Int {
        token += 1
        let input = JoinGroupInput(
            token: token, memberId: memberId, groupInstanceId: instance, clientId: "c", clientHost: "/127.0.0.1",
            sessionTimeoutMs: 6_000, rebalanceTimeoutMs: rebalanceTimeout, protocolType: "consumer",
            protocols: protocols.map { .init(name: $0, metadata: ByteBuffer(string: $0)) }, requireKnownMemberId: v4
        )
        record(group.join(input, nowMs: now))
        return token
    }

    /// Joins a new dynamic member through MEMBER_ID_REQUIRED; returns its member id and join token.
    mutating func joinNew(protocols: [String] = ["range"]) -> (String, Int) {
        let first = join(protocols: protocols)
        let id = joins[first]?.memberId ?? ""
        #expect(joins[first]?.error == .memberIdRequired)
        return (id, join(id, protocols: protocols))
    }

    mutating func sync(_ memberId: String, generation: Int32, assignments: [String: ByteBuffer] = [:]) -> Int {
        token += 1
        record(group.sync(token: token, memberId: memberId, groupInstanceId: nil, generationId: generation,
                          protocolType: "consumer", protocolName: nil, assignments: assignments, nowMs: now))
        return token
    }

    mutating func advance(_ ms: Int64) {
        now += ms
        record(group.tick(nowMs: now))
    }
}

@Suite("Group state machine")
struct GroupStateMachineTests {
    @Test("first join: MEMBER_ID_REQUIRED, then a generation with the joiner as leader")
    func firstJoin() {
        var h = GroupHarness()
        let (id, token) = h.joinNew()
        let outcome = h.joins[token]
        #expect(outcome?.error == KafkaErrorCode.none)
        #expect(outcome?.generationId == 1 && outcome?.leader == id && outcome?.memberId == id)
        #expect(outcome?.members.map(\.memberId) == [id])
        #expect(h.group.phase == .completingRebalance)
        let sync = h.sync(id, generation: 1, assignments: [id: ByteBuffer(string: "all")])
        #expect(h.syncs[sync]?.assignment == ByteBuffer(string: "all"))
        #expect(h.group.phase == .stable)
    }

    @Test("followers wait for the leader's SyncGroup and get only their own assignment")
    func followersWait() {
        var h = GroupHarness()
        let (a, _) = h.joinNew()
        _ = h.sync(a, generation: 1, assignments: [a: ByteBuffer(string: "a1")])
        let (b, bJoin) = h.joinNew()
        #expect(h.joins[bJoin] == nil, "b waits until a rejoins")
        #expect(h.group.phase == .preparingRebalance)
        #expect(h.group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1, nowMs: h.now) == .rebalanceInProgress)
        let aJoin = h.join(a)
        #expect(h.joins[aJoin]?.generationId == 2 && h.joins[aJoin]?.leader == a)
        #expect(Set(h.joins[aJoin]?.members.map(\.memberId) ?? []) == [a, b])
        #expect(h.joins[bJoin]?.members.isEmpty == true)
        let bSync = h.sync(b, generation: 2)
        #expect(h.syncs[bSync] == nil)
        let aSync = h.sync(a, generation: 2, assignments: [a: ByteBuffer(string: "A"), b: ByteBuffer(string: "B")])
        #expect(h.syncs[bSync]?.assignment == ByteBuffer(string: "B"))
        #expect(h.syncs[aSync]?.assignment == ByteBuffer(string: "A"))
    }

    @Test("the initial rebalance delay gathers members before the first generation")
    func initialDelay() {
        var h = GroupHarness(delay: 3_000)
        let (_, aJoin) = h.joinNew()
        h.advance(1_000)
        let (_, bJoin) = h.joinNew()
        #expect(h.joins[aJoin] == nil && h.joins[bJoin] == nil)
        h.advance(1_900)
        #expect(h.joins[aJoin] == nil)
        h.advance(1_200)
        #expect(h.joins[aJoin]?.generationId == 1 && h.joins[bJoin]?.generationId == 1)
    }

    @Test("a member that does not rejoin within the rebalance timeout is dropped")
    func rebalanceTimeout() {
        var h = GroupHarness()
        let (a, _) = h.joinNew()
        _ = h.sync(a, generation: 1)
        let (b, bJoin) = h.joinNew()
        // a keeps heartbeating (so its session lives) but never rejoins.
        for _ in 0..<4 {
            h.advance(2_000)
            #expect(h.group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1, nowMs: h.now) == .rebalanceInProgress)
        }
        h.advance(1_000)
        #expect(h.joins[bJoin] == nil)
        h.advance(1_500)
        #expect(h.joins[bJoin]?.generationId == 2 && h.joins[bJoin]?.leader == b)
        #expect(h.group.member(a) == nil)
        #expect(h.group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 1, nowMs: h.now) == .unknownMemberId)
    }

    @Test("session expiry removes a silent member and rebalances the rest")
    func sessionExpiry() {
        var h = GroupHarness()
        let (a, _) = h.joinNew()
        let (b, bJoin) = h.joinNew()
        _ = h.join(a)
        #expect(h.joins[bJoin]?.generationId == 2)
        _ = h.sync(a, generation: 2)
        _ = h.sync(b, generation: 2)
        for _ in 0..<4 {
            h.advance(2_000)
            #expect(h.group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 2, nowMs: h.now) != .unknownMemberId)
        }
        #expect(h.group.member(b) == nil, "b stayed silent past its 6 s session")
        #expect(h.group.phase == .preparingRebalance)
        let again = h.join(a)
        #expect(h.joins[again]?.generationId == 3 && h.joins[again]?.members.count == 1)
    }

    @Test("heartbeat and commit errors follow Kafka")
    func errors() {
        var h = GroupHarness()
        #expect(h.group.validateCommit(memberId: "", groupInstanceId: nil, generationId: -1, nowMs: h.now) == .none)
        let (a, _) = h.joinNew()
        #expect(h.group.validateCommit(memberId: a, groupInstanceId: nil, generationId: 1, nowMs: h.now) == .rebalanceInProgress)
        _ = h.sync(a, generation: 1)
        #expect(h.group.validateCommit(memberId: a, groupInstanceId: nil, generationId: 1, nowMs: h.now) == .none)
        #expect(h.group.validateCommit(memberId: a, groupInstanceId: nil, generationId: 0, nowMs: h.now) == .illegalGeneration)
        #expect(h.group.validateCommit(memberId: "", groupInstanceId: nil, generationId: -1, nowMs: h.now) == .unknownMemberId)
        #expect(h.group.heartbeat(memberId: "nobody", groupInstanceId: nil, generationId: 1, nowMs: h.now) == .unknownMemberId)
        #expect(h.group.heartbeat(memberId: a, groupInstanceId: nil, generationId: 7, nowMs: h.now) == .illegalGeneration)
        let badSync = h.sync(a, generation: 9)
        #expect(h.syncs[badSync]?.error == .illegalGeneration)
        let (left, _) = h.group.leave([(a, nil)], nowMs: h.now)
        #expect(left == [.none])
        #expect(h.group.phase == .empty && h.group.generationId == 2)
        #expect(h.group.validateCommit(memberId: "", groupInstanceId: nil, generationId: -1, nowMs: h.now) == .none)
    }

    @Test("a static member restarts without a rebalance; its old id is fenced")
    func staticMembership() {
        var h = GroupHarness()
        let first = h.join(instance: "host-1")
        let old = h.joins[first]?.memberId ?? ""
        #expect(h.joins[first]?.generationId == 1, "static members skip MEMBER_ID_REQUIRED")
        _ = h.sync(old, generation: 1, assignments: [old: ByteBuffer(string: "p0")])
        let rejoin = h.join(instance: "host-1")
        let new = h.joins[rejoin]?.memberId ?? ""
        #expect(new != old && h.joins[rejoin]?.generationId == 1 && h.group.phase == .stable)
        let sync = h.sync(new, generation: 1)
        #expect(h.syncs[sync]?.assignment == ByteBuffer(string: "p0"))
        #expect(h.group.heartbeat(memberId: old, groupInstanceId: "host-1", generationId: 1, nowMs: h.now) == .unknownMemberId)
        let stale = h.join(old, instance: "host-1")
        #expect(h.joins[stale]?.error == .unknownMemberId)
        #expect(h.group.validateCommit(memberId: new, groupInstanceId: "host-2", generationId: 1, nowMs: h.now) == .fencedInstanceId)
    }

    @Test("group.max.size and protocol checks")
    func limits() {
        var h = GroupHarness(maxSize: 1)
        _ = h.joinNew()
        let extra = h.join()
        #expect(h.joins[extra]?.error == .groupMaxSizeReached)
        var p = GroupHarness()
        _ = p.joinNew(protocols: ["range"])
        let other = p.join(protocols: ["sticky"])
        #expect(p.joins[other]?.error == .inconsistentGroupProtocol)
    }

    @Test("the protocol every member supports with the most votes wins")
    func protocolVote() {
        var h = GroupHarness(delay: 100)
        let (a, aJoin) = h.joinNew(protocols: ["roundrobin", "range"])
        _ = h.joinNew(protocols: ["range", "roundrobin"])
        _ = h.joinNew(protocols: ["range"])
        h.advance(200)
        #expect(h.joins[aJoin]?.protocolName == "range")
        #expect(h.joins[aJoin]?.leader == a)
    }
}

/// A simulated client for the randomized test.
private struct SimulatedClient {
    var memberId = ""
    var generation: Int32 = -1
    var alive = true
    var joinToken: Int?
    var syncToken: Int?
}

@Suite("Group state machine, randomized")
struct GroupStateMachineRandomTests {
    @Test("many members joining, leaving, crashing and timing out keep the invariants", arguments: 0..<12)
    func invariants(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed) &+ 99)
        var h = GroupHarness(delay: Int64(rng.next() % 2) * 500)
        var clients = Array(repeating: SimulatedClient(), count: 8)
        let partitions = 12
        var ownerByGeneration: [Int32: [Int: String]] = [:]
        var lastGeneration: Int32 = 0

        for _ in 0..<3_000 {
            let index = Int(rng.next() % UInt64(clients.count))
            switch rng.next() % 10 {
            case 0, 1, 2:
                if clients[index].alive && clients[index].joinToken == nil {
                    clients[index].joinToken = h.join(clients[index].memberId)
                }
            case 3, 4:
                if clients[index].alive, clients[index].generation >= 0 {
                    let error = h.group.heartbeat(memberId: clients[index].memberId, groupInstanceId: nil,
                                                  generationId: clients[index].generation, nowMs: h.now)
                    if error == .unknownMemberId { clients[index] = SimulatedClient() }
                }
            case 5:
                if clients[index].alive, !clients[index].memberId.isEmpty, rng.next() % 4 == 0 {
                    _ = h.group.leave([(clients[index].memberId, nil)], nowMs: h.now)
                    clients[index] = SimulatedClient()
                }
            case 6:
                if rng.next() % 8 == 0 { clients[index].alive.toggle() }  // crash, or a fresh process
                if clients[index].alive { clients[index] = SimulatedClient() }
            default:
                h.advance(Int64(rng.next() % 1_500))
            }
            // Deliver outcomes to the clients that wait for them.
            for position in clients.indices {
                if let token = clients[position].joinToken, let outcome = h.joins.removeValue(forKey: token) {
                    clients[position].joinToken = nil
                    guard clients[position].alive else { continue }
                    switch outcome.error {
                    case .memberIdRequired:
                        clients[position].memberId = outcome.memberId
                    case .none:
                        clients[position].memberId = outcome.memberId
                        clients[position].generation = outcome.generationId
                        var assignments: [String: ByteBuffer] = [:]
                        if outcome.leader == outcome.memberId {
                            let ids = outcome.members.map(\.memberId)
                            for partition in 0..<partitions {
                                assignments[ids[partition % ids.count], default: ByteBuffer()].writeInteger(UInt8(partition))
                            }
                        }
                        clients[position].syncToken = h.sync(outcome.memberId, generation: outcome.generationId, assignments: assignments)
                    default:
                        clients[position] = SimulatedClient()
                    }
                }
                if let token = clients[position].syncToken, let outcome = h.syncs.removeValue(forKey: token) {
                    clients[position].syncToken = nil
                    guard clients[position].alive, outcome.error == .none else { continue }
                    let generation = clients[position].generation
                    for byte in outcome.assignment.readableBytesView {
                        let owner = ownerByGeneration[generation, default: [:]][Int(byte)]
                        #expect(owner == nil || owner == clients[position].memberId,
                                "partition \(byte) assigned twice in generation \(generation)")
                        ownerByGeneration[generation, default: [:]][Int(byte)] = clients[position].memberId
                    }
                }
            }
            #expect(h.group.generationId >= lastGeneration, "generation went backwards")
            lastGeneration = h.group.generationId
            if h.group.phase == .stable || h.group.phase == .completingRebalance {
                #expect(h.group.members.allSatisfy { $0.joinToken == nil })
            }
        }
        #expect(lastGeneration > 3, "the run exercised several generations")
    }
}
