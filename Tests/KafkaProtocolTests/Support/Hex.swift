import NIOCore

extension ByteBuffer {
    /// Parses hex digits, ignoring whitespace and `#` comment lines.
    init?(hex: String) {
        self.init()
        var pending: UInt8? = nil
        for line in hex.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
            for character in line where !character.isWhitespace {
                guard let nibble = character.hexDigitValue else { return nil }
                if let high = pending {
                    writeInteger(high << 4 | UInt8(nibble))
                    pending = nil
                } else {
                    pending = UInt8(nibble)
                }
            }
        }
        if pending != nil { return nil }
    }

    var hexString: String {
        readableBytesView.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
