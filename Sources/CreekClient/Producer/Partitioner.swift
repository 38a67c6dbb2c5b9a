/// The Java client's default partitioning, so keyed records land where Java, librdkafka's
/// `murmur2_random` and kafka-python put them: murmur2 of the key bytes, made positive,
/// modulo the partition count. Records without a key stick to one partition until its
/// batch is sent (KIP-480), then move to another.
public enum Partitioner {
    /// Kafka's murmur2 (`Utils.murmur2`), seed 0x9747b28c.
    public static func murmur2(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5BD1_E995
        var h: UInt32 = 0x9747_B28C ^ UInt32(truncatingIfNeeded: data.count)
        let whole = data.count / 4
        for index in 0..<whole {
            let i = index * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = whole * 4
        switch data.count % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition of a keyed record among `count` partitions.
    public static func partition(forKey key: [UInt8], count: Int) -> Int32 {
        Int32((murmur2(key) & 0x7FFF_FFFF) % Int32(max(1, count)))
    }
}
