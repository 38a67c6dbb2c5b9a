#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ANSI styling for one output stream, on only when that stream is a terminal, `NO_COLOR`
/// is unset (no-color.org) and `TERM` is not `dumb`; otherwise every method returns its
/// text unchanged, so pipes and files never see escape codes.
struct TerminalStyle: Sendable {
    let enabled: Bool

    /// Styling for standard output (1) or standard error (2).
    init(descriptor: Int32) {
        let term = getenv("TERM").map { String(cString: $0) }
        enabled = isatty(descriptor) == 1 && getenv("NO_COLOR") == nil && term != "dumb"
    }

    static let standardOutput = TerminalStyle(descriptor: 1)
    static let standardError = TerminalStyle(descriptor: 2)

    func bold(_ text: String) -> String { wrap(text, "1") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func dim(_ text: String) -> String { wrap(text, "2") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
