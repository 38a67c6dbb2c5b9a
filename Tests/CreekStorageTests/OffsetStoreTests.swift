import CreekStorage
import Foundation
import Testing

@Suite("OffsetStore")
struct OffsetStoreTests {
    @Test("commits, deletions and expiry survive a reopen; a torn tail is cut")
    func journal() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try OffsetStore(dataDirectory: directory)
        try store.commit(group: "g", [("t", 0, CommittedOffset(offset: 5, leaderEpoch: 0, metadata: "m", commitTimestampMs: 100)),
                                      ("t", 1, CommittedOffset(offset: 7, leaderEpoch: -1, metadata: nil, commitTimestampMs: 100))])
        try store.commit(group: "g", [("t", 0, CommittedOffset(offset: 9, leaderEpoch: 0, metadata: "n", commitTimestampMs: 200))])
        try store.commit(group: "h", [("u", 3, CommittedOffset(offset: 1, leaderEpoch: 0, metadata: nil, commitTimestampMs: 50))])
        try store.delete(group: "g", partitions: [("t", 1)])
        #expect(try store.expire(groups: ["h"], committedBefore: 60) == 1)

        let reopened = try OffsetStore(dataDirectory: directory)
        #expect(reopened.offsets(group: "g") == ["t": [0: CommittedOffset(offset: 9, leaderEpoch: 0, metadata: "n", commitTimestampMs: 200)]])
        #expect(reopened.offsets(group: "h").isEmpty)

        // A torn record at the end is dropped; everything before it stays.
        let path = directory + "/meta/offsets.journal"
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seekToEnd()
        handle.write(Data([0, 0, 0, 40, 1, 2, 3]))
        try handle.close()
        let repaired = try OffsetStore(dataDirectory: directory)
        #expect(repaired.offsets(group: "g")["t"]?[0]?.offset == 9)
        try repaired.commit(group: "g", [("t", 2, CommittedOffset(offset: 3, leaderEpoch: 0, metadata: nil, commitTimestampMs: 300))])
        #expect(try OffsetStore(dataDirectory: directory).offsets(group: "g")["t"]?[2]?.offset == 3)

        try repaired.delete(group: "g", partitions: nil)
        #expect(try OffsetStore(dataDirectory: directory).offsets(group: "g").isEmpty)
    }
}
