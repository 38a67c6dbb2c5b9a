import CreekStorage
import KafkaProtocol
import NIOCore

/// Kafka's record formats for the internal `__consumer_offsets` topic, so tools that read
/// that topic (lag monitors, UIs) decode Creek's the same way. Big-endian, strings with an
/// int16 length, nullable strings -1, bytes with an int32 length:
///
///     offset commit key     int16 1 | group | topic | partition int32
///     offset commit value   int16 3 | offset int64 | leaderEpoch int32 | metadata | commitTimestamp int64
///     group metadata key    int16 2 | group
///     group metadata value  int16 3 | protocolType | generation int32 | protocol? | leader? |
///                           currentStateTimestamp int64 | members int32 count, each:
///                           memberId | groupInstanceId? | clientId | clientHost |
///                           rebalanceTimeout int32 | sessionTimeout int32 | subscription bytes | assignment bytes
///
/// A deleted offset or group is a tombstone: the key with a null value.
enum ConsumerOffsetsRecords {
    static let topic = "__consumer_offsets"

    /// The partition holding `group`'s records: Java's `String.hashCode` of the group id,
    /// made non-negative as Kafka does, modulo the partition count.
    static func partition(of group: String, partitions: Int32) -> Int32 {
        var hash: Int32 = 0
        for unit in group.utf16 { hash = hash &* 31 &+ Int32(unit) }
        let positive = hash == Int32.min ? 0 : abs(hash)
        return positive % max(1, partitions)
    }

    static func offsetKey(group: String, topic: String, partition: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(1))
        write(group, to: &buffer)
        write(topic, to: &buffer)
        buffer.writeInteger(partition)
        return buffer
    }

    static func offsetValue(_ offset: CommittedOffset) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(3))
        buffer.writeInteger(offset.offset)
        buffer.writeInteger(offset.leaderEpoch)
        write(offset.metadata ?? "", to: &buffer)
        buffer.writeInteger(offset.commitTimestampMs)
        return buffer
    }

    static func groupKey(_ group: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(2))
        write(group, to: &buffer)
        return buffer
    }

    /// What a group-metadata record says of a group: its generation, protocol, leader and
    /// members (with the chosen protocol's subscription and their assignment).
    struct GroupState: Hashable, Sendable {
        struct Member: Hashable, Sendable {
            var memberId: String
            var groupInstanceId: String?
            var clientId: String
            var clientHost: String
            var rebalanceTimeoutMs: Int32
            var sessionTimeoutMs: Int32
            var subscription: ByteBuffer
            var assignment: ByteBuffer
        }

        var protocolType: String
        var generation: Int32
        var protocolName: String?
        var leader: String?
        var members: [Member]
    }

    static func groupValue(_ group: GroupState, timestampMs: Int64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(3))
        write(group.protocolType, to: &buffer)
        buffer.writeInteger(group.generation)
        write(group.protocolName, to: &buffer)
        write(group.leader, to: &buffer)
        buffer.writeInteger(timestampMs)
        buffer.writeInteger(Int32(group.members.count))
        for member in group.members {
            write(member.memberId, to: &buffer)
            write(member.groupInstanceId, to: &buffer)
            write(member.clientId, to: &buffer)
            write(member.clientHost, to: &buffer)
            buffer.writeInteger(member.rebalanceTimeoutMs)
            buffer.writeInteger(member.sessionTimeoutMs)
            write(bytes: member.subscription, to: &buffer)
            write(bytes: member.assignment, to: &buffer)
        }
        return buffer
    }

    private static func write(_ text: String?, to buffer: inout ByteBuffer) {
        guard let text else {
            buffer.writeInteger(Int16(-1))
            return
        }
        let utf8 = Array(text.utf8.prefix(Int(Int16.max)))
        buffer.writeInteger(Int16(utf8.count))
        buffer.writeBytes(utf8)
    }

    private static func write(bytes: ByteBuffer, to buffer: inout ByteBuffer) {
        var bytes = bytes
        buffer.writeInteger(Int32(bytes.readableBytes))
        buffer.writeBuffer(&bytes)
    }
}
