import Foundation

/// Writing to the terminal: progress lines that redraw in place on a tty and stay silent
/// otherwise, bold text on a tty, JSON output.
enum Terminal {
    static let isStandardErrorTTY = isatty(STDERR_FILENO) == 1
    static let isStandardOutputTTY = isatty(STDOUT_FILENO) == 1

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("kidx: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Redraws the progress line (only on a terminal).
    static func progress(_ message: String) {
        guard isStandardErrorTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }

    static func endProgress() {
        guard isStandardErrorTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func bold(_ text: String) -> String {
        isStandardOutputTTY ? "\u{1B}[1m\(text)\u{1B}[0m" : "**\(text)**"
    }

    static func printJSON(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// `12345678` → `12,345,678`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var output = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0, character != "-" { output.append(",") }
            output.append(character)
        }
        return output
    }
}
