public import NIOCore

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }
}

/// A record header: a string key and optional bytes.
public struct RecordHeaderValue: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A record to send. Without `partition`, the partitioner picks one (murmur2 of the key,
/// or sticky for records without one); without `timestamp`, the producer stamps the time
/// of `send`.
public struct ProducerRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeaderValue]
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?,
        headers: [RecordHeaderValue] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where a sent record was stored.
public struct RecordMetadata: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    /// -1 with acks=0 (the broker does not answer).
    public var offset: Int64
    /// The record's timestamp, or the broker's append time on LogAppendTime topics.
    public var timestamp: Int64
}

/// A record read by the consumer. Key and value are slices of the fetched response (no
/// copy): `keyBuffer`/`valueBuffer` read them in place, `key`/`value` copy them out.
public struct ConsumerRecord: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var keyBuffer: ByteBuffer?
    public var valueBuffer: ByteBuffer?
    public var headers: [RecordHeaderValue]

    public var key: [UInt8]? { keyBuffer.map { Array($0.readableBytesView) } }
    public var value: [UInt8]? { valueBuffer.map { Array($0.readableBytesView) } }
}
