public import NIOCore

/// Sparse map from offset to byte position in one segment's `.log`, as in Kafka's
/// `.index` file: 8-byte entries, big-endian (relative offset u32, position u32), where
/// the relative offset is a batch's last offset minus the segment's base offset. An entry
/// is added after every `index.interval.bytes` of log. Entries only grow; the index is
/// a cache, rebuilt from the log after a crash.
public struct OffsetIndex: Sendable {
    public struct Entry: Hashable, Sendable {
        public var relativeOffset: UInt32
        public var position: UInt32
    }

    public private(set) var entries: [Entry] = []
    public static let entrySize = 8

    public init() {}

    /// Parses an index file's bytes, keeping the longest valid ascending prefix.
    public init(bytes: ByteBuffer, logSize: Int) {
        var buffer = bytes
        while let relative = buffer.readInteger(endianness: .big, as: UInt32.self),
              let position = buffer.readInteger(endianness: .big, as: UInt32.self) {
            if let last = entries.last, relative <= last.relativeOffset || position <= last.position { break }
            if Int(position) >= logSize { break }
            entries.append(Entry(relativeOffset: relative, position: position))
        }
    }

    /// The whole index in its file layout.
    public var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(entries.count * Self.entrySize)
        for entry in entries {
            buffer.writeInteger(entry.relativeOffset, endianness: .big)
            buffer.writeInteger(entry.position, endianness: .big)
        }
        return buffer
    }

    public mutating func append(relativeOffset: UInt32, position: UInt32) {
        entries.append(Entry(relativeOffset: relativeOffset, position: position))
    }

    /// The position to start scanning from for `relativeOffset`: the entry with the
    /// largest relative offset strictly below it (its batch ends before the target), or 0.
    public func scanStart(for relativeOffset: UInt32) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].relativeOffset < relativeOffset { low = mid + 1 } else { high = mid }
        }
        // entries[low - 1] is the last entry below the target: its batch ends there, so
        // the next batch starts after it. Kafka scans from the entry's batch; we do too.
        return low == 0 ? 0 : Int(entries[low - 1].position)
    }
}

/// Sparse map from timestamp to offset in one segment, as in Kafka's `.timeindex`:
/// 12-byte entries, big-endian (max timestamp so far i64, relative offset u32).
/// Timestamps are non-decreasing. Rebuilt from the log after a crash.
public struct TimeIndex: Sendable {
    public struct Entry: Hashable, Sendable {
        public var timestamp: Int64
        public var relativeOffset: UInt32
    }

    public private(set) var entries: [Entry] = []
    public static let entrySize = 12

    public init() {}

    public init(bytes: ByteBuffer) {
        var buffer = bytes
        while let timestamp = buffer.readInteger(endianness: .big, as: Int64.self),
              let relative = buffer.readInteger(endianness: .big, as: UInt32.self) {
            if let last = entries.last, timestamp <= last.timestamp || relative < last.relativeOffset { break }
            entries.append(Entry(timestamp: timestamp, relativeOffset: relative))
        }
    }

    /// The whole index in its file layout.
    public var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(entries.count * Self.entrySize)
        for entry in entries {
            buffer.writeInteger(entry.timestamp, endianness: .big)
            buffer.writeInteger(entry.relativeOffset, endianness: .big)
        }
        return buffer
    }

    /// Adds an entry when `timestamp` is newer than the last one; returns whether it did.
    @discardableResult
    public mutating func maybeAppend(timestamp: Int64, relativeOffset: UInt32) -> Bool {
        if let last = entries.last, timestamp <= last.timestamp { return false }
        entries.append(Entry(timestamp: timestamp, relativeOffset: relativeOffset))
        return true
    }

    /// The relative offset from which to search for the first record with a timestamp at
    /// or after `timestamp`: the last entry whose timestamp is below it, or 0.
    public func searchStart(for timestamp: Int64) -> UInt32 {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].timestamp < timestamp { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? 0 : entries[low - 1].relativeOffset
    }
}
