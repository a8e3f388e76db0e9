import ArgumentParser
import Foundation
import Kidx

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the tokens a text becomes: term, position, offsets, kind.",
        discussion: "Without TEXT, reads lines from standard input (one JSON object per line with --json).")

    @Argument(help: "The text to analyze.")
    var text: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let analyzer = GermanAnalyzer()
        if let text {
            emit(text, analyzer)
        } else {
            while let line = readLine() { emit(line, analyzer) }
        }
    }

    private func emit(_ text: String, _ analyzer: GermanAnalyzer) {
        let tokens = analyzer.tokens(of: text)
        let bytes = Array(text.utf8)
        if json {
            Terminal.printJSON(["text": text, "tokens": tokens.map { token in
                ["term": token.term, "position": token.position, "byte_start": token.byteRange.lowerBound,
                 "byte_end": token.byteRange.upperBound, "kind": token.kind.rawValue,
                 "text": String(decoding: bytes[token.byteRange], as: UTF8.self)] as [String: Any]
            }] as [String: Any])
            return
        }
        for token in tokens {
            let surface = String(decoding: bytes[token.byteRange], as: UTF8.self)
            print("\(String(token.position).leftPadded(4))  \(token.term.padding(toLength: 24, withPad: " ", startingAt: 0)) \(surface.padding(toLength: 24, withPad: " ", startingAt: 0)) \(token.byteRange.lowerBound)..<\(token.byteRange.upperBound)  \(token.kind.rawValue)")
        }
    }
}
