import CreekStorage
import Testing

/// A fixed cluster view for the assignment rules.
private struct FixedView: ClusterView {
    var localNodeId: Int32
    var ids: [Int32]
    var holdsLease = true
    var generation = 0
    func leaseRemaining() -> [Int32: Duration] { [:] }
    func liveNodes() -> [ClusterNode] { ids.map { ClusterNode(id: $0, listeners: ["PLAINTEXT": "h\($0):9092"]) } }
}

/// FNV-1a 64, written out independently of the implementation.
private func fnv1a(_ text: String) -> UInt64 {
    text.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
}

@Suite("Cluster view: leaders and coordinators")
struct ClusterViewTests {
    @Test("a topic's partitions go round the live brokers, the same from every broker")
    func leadersSpread() {
        let views = [Int32(1), 2, 3].map { FixedView(localNodeId: $0, ids: [3, 1, 2]) }
        let leaders = (0..<6).map { views[0].leader(topicId: "0123456789abcdef0123456789abcdef", partition: Int32($0)) }
        #expect(Set(leaders) == [1, 2, 3])
        #expect(leaders[0] != leaders[1] && leaders[1] != leaders[2] && leaders[0] == leaders[3])
        for view in views.dropFirst() {
            #expect((0..<6).map { view.leader(topicId: "0123456789abcdef0123456789abcdef", partition: Int32($0)) } == leaders)
        }
        #expect(views.map { view in (0..<6).filter { view.isLocalLeader(topicId: "0123456789abcdef0123456789abcdef", partition: Int32($0)) }.count } == [2, 2, 2])
    }

    @Test("without its lease a broker leads nothing; alone it leads everything")
    func lease() {
        #expect(!FixedView(localNodeId: 1, ids: [1], holdsLease: false).isLocalLeader(topicId: "t", partition: 0))
        #expect((0..<8).allSatisfy { FixedView(localNodeId: 1, ids: [1]).isLocalLeader(topicId: "t", partition: Int32($0)) })
        #expect(FixedView(localNodeId: 7, ids: []).coordinator(key: "g") == 7)
    }

    @Test("coordinators hash the key (FNV-1a, stable across processes) over the sorted ids")
    func coordinators() {
        let view = FixedView(localNodeId: 1, ids: [2, 3, 1])
        let picked = Set((0..<30).map { view.coordinator(key: "group-\($0)") })
        #expect(picked == [1, 2, 3])
        // The same node in every process (compat/test_cluster.py computes it in Python too).
        #expect(view.coordinator(key: "group-0") == [Int32(1), 2, 3][Int(fnv1a("group-0") % 3)])
        let address = ClusterNode(id: 1, listeners: ["A": "host:9093"]).address(for: "B")
        #expect(address?.host == "host")
        #expect(address?.port == 9093)
    }
}
