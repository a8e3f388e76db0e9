import ArgumentParser
import Foundation
import Kidx

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Show the tokens a text becomes: term, word form, position, offsets, kind.",
        discussion: """
        Kinds: word (as written), hyphenPart and hyphenJoined (Nord-Korea), compoundPart (a word inside a \
        compound, found with the lexicon of the index given by --index, when it exists). `term` is the \
        stemmed index term; `word` the folded form (case, ß → ss, ae → ä), the strong key; `variant` marks a \
        word that a spelling variant changed beyond case and ß (Soeder → söder). Without TEXT, reads lines \
        from standard input (one JSON object per line with --json).
        """)

    @Argument(help: "The text to analyze.")
    var text: String?

    @Option(name: .long, help: "An index whose decompounding lexicon splits compounds.")
    var index = "Index"

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let reader = try? IndexReader(directory: index)
        let analyzer = reader?.makeAnalyzer() ?? GermanAnalyzer()
        let splitter = reader.map { CompoundSplitter(reader: $0) }
        if let text {
            emit(text, analyzer, splitter)
        } else {
            while let line = readLine() { emit(line, analyzer, splitter) }
        }
    }

    private func emit(_ text: String, _ analyzer: GermanAnalyzer, _ splitter: CompoundSplitter?) {
        let tokens = analyzer.tokens(of: text).flatMap { token in [token] + (splitter?.parts(of: token) ?? []) }
        let bytes = Array(text.utf8)
        if json {
            Terminal.printJSON(["text": text, "tokens": tokens.map { token in
                ["term": token.term, "word": token.word, "position": token.position, "byte_start": token.byteRange.lowerBound,
                 "byte_end": token.byteRange.upperBound, "kind": token.kind.rawValue,
                 "text": String(decoding: bytes[token.byteRange], as: UTF8.self), "variant": isVariant(token, bytes)] as [String: Any]
            }] as [String: Any])
            return
        }
        for token in tokens {
            let surface = String(decoding: bytes[token.byteRange], as: UTF8.self)
            let columns = [token.term.padding(toLength: 20, withPad: " ", startingAt: 0), token.word.padding(toLength: 22, withPad: " ", startingAt: 0),
                           surface.padding(toLength: 22, withPad: " ", startingAt: 0)]
            print("\(String(token.position).leftPadded(4))  \(columns.joined(separator: " ")) \(token.byteRange.lowerBound)..<\(token.byteRange.upperBound)  \(token.kind.rawValue)\(isVariant(token, bytes) ? " variant" : "")")
        }
    }

    /// Whether a spelling variant changed the word beyond case folding and `ß` → `ss` (a part
    /// of a compound is compared as found, linking elements and all, so it never counts).
    private func isVariant(_ token: Token, _ bytes: [UInt8]) -> Bool {
        guard token.kind != .compoundPart else { return false }
        let plain = String(decoding: bytes[token.byteRange], as: UTF8.self).lowercased().replacingOccurrences(of: "ß", with: "ss")
        return plain.filter { $0 != "-" && $0 != "\u{2010}" && $0 != "\u{2011}" } != token.word
    }
}
