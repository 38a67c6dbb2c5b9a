#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Messages for the operator that bypass logging (bad configuration, forced exit).
/// Written unbuffered with one call, so they are not lost at `_exit`.
enum StandardError {
    static func emit(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// Writes straight to standard output (file descriptor 1), unbuffered: a reader of a pipe
/// sees each write at once.
enum StandardOutput {
    static func emit(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
