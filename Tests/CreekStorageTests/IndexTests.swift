import CreekStorage
import NIOCore
import Testing

@Suite("Sparse indexes")
struct IndexTests {
    @Test("offset index lookups start at or before the batch holding the offset")
    func offsetIndex() {
        var index = OffsetIndex()
        index.append(relativeOffset: 9, position: 100)
        index.append(relativeOffset: 19, position: 250)
        #expect(index.scanStart(for: 0) == 0)
        #expect(index.scanStart(for: 9) == 0)
        #expect(index.scanStart(for: 10) == 100)
        #expect(index.scanStart(for: 25) == 250)
    }

    @Test("an index file is read up to its first invalid entry")
    func parsing() {
        var bytes = ByteBuffer()
        for (offset, position) in [(5, 10), (9, 40), (7, 60), (12, 80)] as [(UInt32, UInt32)] {
            bytes.writeInteger(offset)
            bytes.writeInteger(position)
        }
        let index = OffsetIndex(bytes: bytes, logSize: 1000)
        #expect(index.entries.map(\.relativeOffset) == [5, 9])
        let clipped = OffsetIndex(bytes: bytes, logSize: 30)
        #expect(clipped.entries.map(\.relativeOffset) == [5])
    }

    @Test("time index searches from the last entry below the target")
    func timeIndex() {
        var index = TimeIndex()
        let first = index.maybeAppend(timestamp: 100, relativeOffset: 3)
        #expect(first)
        let older = index.maybeAppend(timestamp: 90, relativeOffset: 5)
        #expect(!older)
        let newer = index.maybeAppend(timestamp: 200, relativeOffset: 8)
        #expect(newer)
        #expect(index.searchStart(for: 50) == 0)
        #expect(index.searchStart(for: 100) == 0)
        #expect(index.searchStart(for: 150) == 3)
        #expect(index.searchStart(for: 500) == 8)
    }
}
