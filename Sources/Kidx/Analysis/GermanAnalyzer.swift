import Dispatch

/// Which analysis stages run. The same options must serve indexing and querying; an index
/// records the options it was built with and its searcher analyzes queries the same way.
public struct AnalyzerOptions: Sendable, Hashable, Codable {
    /// Reduce words to their stem (`Sanktionen` → `sanktion`).
    public var stemming: Bool
    /// Which stemmer: Snowball's German (the default) or a light one that strips inflection only.
    public var stemmer: Stemmer

    /// The stemmers kidx has.
    public enum Stemmer: String, Sendable, Hashable, Codable {
        /// Snowball's German stemmer (libstemmer).
        case snowball
        /// A light inflection stripper after Savoy (2006).
        case light
    }
    /// Leave out German function words (`der`, `und`, `über`); they still take a position.
    /// Off by default: measured on known-item search, keeping them gains 4 points of MRR@10
    /// (BM25's idf already discounts them), at the cost of a larger positions file.
    public var removeStopWords: Bool
    /// Let `ae`/`oe`/`ue` meet `ä`/`ö`/`ü` (`Pjoengjang` = `Pjöngjang` = `Pjongjang`).
    public var spellingVariants: Bool
    /// Index a hyphenated word joined as well as in parts (`Nord-Korea` → `nordkorea`, `nord`, `korea`).
    public var joinHyphenated: Bool
    /// Split compounds into their parts and index the parts too (`Atomwaffentests` → `atom`,
    /// `waffe`, `test`); queries then match compounds by their parts and parts near each other.
    public var decompounding: Bool
    /// Keep the corpus's proper names from the stemmer (`Söder` stays `soder`, not `sod`, and no
    /// longer meets `Soda`); see `ProperNames`. Needs the system word list.
    public var protectNames: Bool

    /// Creates options; every stage but stop-word removal is on unless switched off.
    public init(stemming: Bool = true, stemmer: Stemmer = .snowball, removeStopWords: Bool = false, spellingVariants: Bool = true,
                joinHyphenated: Bool = true, decompounding: Bool = true, protectNames: Bool = true) {
        self.stemming = stemming
        self.stemmer = stemmer
        self.removeStopWords = removeStopWords
        self.spellingVariants = spellingVariants
        self.joinHyphenated = joinHyphenated
        self.decompounding = decompounding
        self.protectNames = protectNames
    }

    private enum CodingKeys: String, CodingKey {
        case stemming, stemmer, removeStopWords, spellingVariants, joinHyphenated, decompounding, protectNames
    }

    /// Reads options as an index recorded them; indexes from before name protection lack it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stemming: try container.decode(Bool.self, forKey: .stemming), stemmer: try container.decode(Stemmer.self, forKey: .stemmer),
                  removeStopWords: try container.decode(Bool.self, forKey: .removeStopWords),
                  spellingVariants: try container.decode(Bool.self, forKey: .spellingVariants),
                  joinHyphenated: try container.decode(Bool.self, forKey: .joinHyphenated),
                  decompounding: try container.decode(Bool.self, forKey: .decompounding),
                  protectNames: try container.decodeIfPresent(Bool.self, forKey: .protectNames) ?? false)
    }

    /// What `kidx build` uses.
    public static let `default` = AnalyzerOptions()
}

/// One analyzed term of a text.
public struct Token: Sendable, Hashable {
    /// What a token is, for highlighting and for `kidx analyze`.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A word or number as written.
        case word
        /// One part of a hyphenated word (`Korea` in `Nord-Korea`).
        case hyphenPart
        /// A hyphenated word joined into one term (`nordkorea`), at the position of its first part.
        case hyphenJoined
        /// A word found inside a compound (`trikot` in `Fußballtrikot`), at the compound's position.
        case compoundPart
    }

    /// The normalized, stemmed term that is indexed and looked up.
    public var term: String
    /// The word as written, folded (case, `ß`, variants) but not stemmed: the strong key.
    public var word: String
    /// The word position; consecutive words differ by one (stop words included).
    public var position: Int
    /// Where the token stands in the analyzed text, as UTF-8 byte offsets.
    public var byteRange: Range<Int>
    /// What the token is.
    public var kind: Kind

    /// Creates a token.
    public init(term: String, word: String, position: Int, byteRange: Range<Int>, kind: Kind) {
        self.term = term
        self.word = word
        self.position = position
        self.byteRange = byteRange
        self.kind = kind
    }
}

/// The German analyzer: ICU word breaking, NFKC case folding (`ß` → `ss`), spelling variants,
/// hyphenated words joined and split, stop words, Snowball German stemming.
///
/// An analyzer holds ICU and Snowball state and is not thread-safe: give each thread its own.
public final class GermanAnalyzer {
    /// The stages this analyzer runs.
    public let options: AnalyzerOptions

    /// Longer tokens (URLs, base64, tables) are not words anyone searches for.
    static let maximumTokenBytes = 64

    private let breaker = WordBreaker()
    private let stemmer = GermanStemmer()
    private var folded: [UInt8] = []
    private var joined: [UInt8] = []

    /// The index term of a folded word when it is one of the index's proper names (set by the
    /// writer at commit and by a searcher from its index; nil: no names).
    var nameTerm: (([UInt8]) -> [UInt8]?)?

    /// Creates an analyzer with the given stages.
    public init(options: AnalyzerOptions = .default) {
        self.options = options
    }

    /// The tokens of `text`, in order of position.
    public func tokens(of text: String) -> [Token] {
        var tokens: [Token] = []
        var text = text
        text.withUTF8 { utf8 in
            forEachWord(inUTF8: utf8) { word, position, range, kind in
                let folded = Array(word)
                tokens.append(Token(term: String(decoding: term(ofWord: folded), as: UTF8.self), word: String(decoding: folded, as: UTF8.self),
                                    position: position, byteRange: range, kind: kind))
            }
        }
        return tokens
    }

    /// The terms a single query word becomes: its joined form when hyphenated, else its term.
    /// Returns an empty array for a stop word or for text without words.
    public func queryTerms(of text: String) -> [String] {
        queryTokens(of: text).map(\.term)
    }

    /// The tokens of `text` as a query uses them: a hyphenated word by its joined form only.
    func queryTokens(of text: String) -> [Token] {
        let all = tokens(of: text)
        let joinedRanges = all.filter { $0.kind == .hyphenJoined }.map(\.byteRange)
        return all.filter { token in
            token.kind == .hyphenJoined || !joinedRanges.contains { $0.contains(token.byteRange.lowerBound) }
        }
    }

    /// A single word folded as `forEachWord` reports words (case-folded, variants read), or nil
    /// when it is not a word.
    func fold(_ word: String) -> String? {
        var word = word
        let ok = word.withUTF8 { $0.count <= Self.maximumTokenBytes && normalize($0) }
        return ok ? String(decoding: folded, as: UTF8.self) : nil
    }

    /// True when `word` is a German function word (`der`, `und`, `über`).
    public func isStopWord(_ word: String) -> Bool {
        fold(word).map { GermanStopWords.words.contains($0) } ?? false
    }

    /// The index term of a word as `forEachWord` reports it (folded, not yet stemmed).
    ///
    /// Every stage only cuts the word's end once umlauts are stripped (Snowball's and the light
    /// stemmer's suffixes, the genitive `-s`, a name's genitive), so the term is a prefix of the
    /// word or of the word without umlauts: the highlighter relies on it to skip stemming.
    func term(ofWord word: [UInt8]) -> [UInt8] {
        var result = word
        finish(&result)
        // A name matters only where the stemmer changes the word (beyond umlauts); the stem
        // comes first because it is cheaper than looking the word up among the names.
        if options.stemming, options.protectNames, let nameTerm {
            var plain = word
            SpellingVariants.stripUmlauts(&plain)
            if plain != result, let name = nameTerm(word) { return name }
        }
        return result
    }

    /// The index terms of the stop words (`die`, `sein`): their lists are written without
    /// positions, which only a phrase through a stop word would read.
    func stopWordTerms() -> Set<[UInt8]> { Set(GermanStopWords.words.map { term(ofWord: Array($0.utf8)) }) }

    /// Whether every character of `word` is a letter (what the decompounder and the name finder
    /// consider). ASCII and Latin-1 letters (`ä`, `ß`, `é`) are told from their bytes: looking up
    /// Unicode's properties for every character of a million words took over a second of a FANG
    /// build; for the words with umlauts alone, 122.8 M of a 1,000-article build's instructions
    /// (23.6 M told from their bytes).
    static func isAllLetters(_ word: String) -> Bool {
        var word = word
        let latin = word.withUTF8 { bytes -> Bool? in
            var offset = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z") {
                    offset += 1
                } else if byte == 0xC3, offset + 1 < bytes.count, (0x80...0xBF).contains(bytes[offset + 1]),
                          bytes[offset + 1] != 0x97, bytes[offset + 1] != 0xB7 {
                    offset += 2  // U+00C0…U+00FF, letters all but × and ÷
                } else {
                    return byte < 0x80 ? false : nil  // an ASCII non-letter, or another script
                }
            }
            return true
        }
        return latin ?? word.unicodeScalars.allSatisfy(\.properties.isAlphabetic)
    }

    /// Calls `body` with the index term of each of `words`, in order, as `term(ofWord:)` gives
    /// it: computed on as many threads as there are `analyzers` (each thread with its own), handed
    /// over on the calling thread. A commit stems every distinct word of a part; each thread's
    /// terms are kept in one byte array, not an array per term (an array per word of FANG's
    /// 511,636 body words: see `TermGroups`).
    static func forEachTerm(ofWords words: [String], using analyzers: [GermanAnalyzer], _ body: (Int, UnsafeBufferPointer<UInt8>) -> Void) {
        // A thread is not worth starting for a few words.
        let workers = max(1, min(analyzers.count, words.count / 4096))
        var slices = [(bytes: [UInt8], ends: [Int32])](repeating: ([], []), count: workers)
        slices.withUnsafeMutableBufferPointer { output in
            let output = output
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var bytes: [UInt8] = [], ends: [Int32] = []
                for word in words[(words.count * worker / workers)..<(words.count * (worker + 1) / workers)] {
                    bytes += analyzers[worker].term(ofWord: Array(word.utf8))
                    ends.append(Int32(bytes.count))
                }
                output[worker] = (bytes, ends)
            }
        }
        var word = 0
        for (bytes, ends) in slices {
            bytes.withUnsafeBufferPointer { bytes in
                var start = 0
                for end in ends {
                    body(word, UnsafeBufferPointer(rebasing: bytes[start..<Int(end)]))
                    start = Int(end)
                    word += 1
                }
            }
        }
    }

    /// Splits, folds and filters `bytes` into words, before stemming: the writer stems each
    /// distinct word once instead of every occurrence, and the decompounder needs words whole.
    /// The word buffer is only valid during the call.
    func forEachWord(inUTF8 bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int, Range<Int>, Token.Kind) -> Void) {
        var position = -1
        // A hyphen chain under construction: its first part's position and range.
        var chainStart = -1, chainPosition = -1, chainEnd = -1, chainParts = 0
        var previousWordEnd = -1

        func flushChain() {
            if chainParts >= 2, options.joinHyphenated, !joined.isEmpty {
                joined.withUnsafeBufferPointer { body($0, chainPosition, chainStart..<chainEnd, .hyphenJoined) }
            }
            chainParts = 0
            joined.removeAll(keepingCapacity: true)
        }

        breaker.forEachWord(in: bytes) { range in
            let hyphenated = previousWordEnd >= 0 && Self.isHyphen(bytes, from: previousWordEnd, to: range.lowerBound)
            if !hyphenated { flushChain() }
            previousWordEnd = range.upperBound
            position += 1
            guard range.count <= Self.maximumTokenBytes, normalize(UnsafeBufferPointer(rebasing: bytes[range])) else {
                chainParts = 0
                joined.removeAll(keepingCapacity: true)
                return
            }
            if chainParts == 0 {
                chainStart = range.lowerBound
                chainPosition = position
                joined.removeAll(keepingCapacity: true)
            }
            chainParts += 1
            chainEnd = range.upperBound
            joined.append(contentsOf: folded)

            if options.removeStopWords, GermanStopWords.words.contains(String(decoding: folded, as: UTF8.self)) {
                return
            }
            // A part of a hyphenated word is marked as such once the next part shows up; the
            // first part is reported as a word, which is what it is when no hyphen follows.
            folded.withUnsafeBufferPointer { body($0, position, range, hyphenated ? .hyphenPart : .word) }
        }
        flushChain()
    }

    /// Case folds the word at `word` into `folded`. Returns false for text that is not a word.
    /// Latin-1 text is folded on the stack and appended once, its digraphs read in place: a build
    /// of 3,000 FANG articles on one thread took 1.1 % more instructions with the word appended
    /// byte by byte (each append checks the array's uniqueness and capacity) and the digraphs'
    /// umlauts copied into a new array (callgrind 34.98 G against 34.58 G).
    private func normalize(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        folded.removeAll(keepingCapacity: true)
        let spellingVariants = options.spellingVariants
        let latin1 = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: word.count) { buffer in
            guard Self.foldLatin1(word, into: buffer) else { return false }
            if spellingVariants { SpellingVariants.digraphsToUmlauts(buffer) }
            folded.append(contentsOf: buffer)
            return true
        }
        if !latin1 {
            guard UnicodeNormalizer.caseFolded(word, into: &folded) else { return false }
            if spellingVariants { folded.withUnsafeMutableBufferPointer { SpellingVariants.digraphsToUmlauts($0) } }
        }
        return !folded.isEmpty
    }

    /// Writes `word` case folded to `folded` (as long as `word`) when it is all ASCII characters
    /// and Latin-1 letters (`ä`, `É`, `ß`), byte by byte, as ICU's NFKC with case folding makes
    /// it (those are composed already, and fold to a lowercase letter of as many bytes, `ß` to
    /// `ss`, `×` staying); false, with part of the word written, for anything else, which is
    /// ICU's to fold (`GermanAnalyzer.forEachWord` on a 1,000-article build: 1,522 M
    /// instructions with ICU folding every word with an umlaut, 1,352 M without).
    static func foldLatin1(_ word: UnsafeBufferPointer<UInt8>, into folded: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        precondition(folded.count >= word.count, "the folded word is as long as the word")
        var offset = 0
        while offset < word.count {
            let byte = word[offset]
            if byte < 0x80 {
                folded[offset] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                offset += 1
                continue
            }
            guard byte == 0xC3, offset + 1 < word.count else { return false }
            let next = word[offset + 1]
            switch next {
            case 0x80...0x96, 0x98...0x9E:  // À…Ö, Ø…Þ: à…ö, ø…þ
                (folded[offset], folded[offset + 1]) = (0xC3, next + 0x20)
            case 0x9F:  // ß
                (folded[offset], folded[offset + 1]) = (UInt8(ascii: "s"), UInt8(ascii: "s"))
            case 0x97, 0xA0...0xBF:  // ×, à…ÿ
                (folded[offset], folded[offset + 1]) = (0xC3, next)
            default:
                return false
            }
            offset += 2
        }
        return true
    }

    /// Turns a folded word into its index term: stemmed, or with umlauts removed.
    private func finish(_ word: inout [UInt8]) {
        if options.stemming {
            switch options.stemmer {
            case .snowball: stemmer.stem(&word)
            case .light: GermanLightStemmer.stem(&word)
            }
        } else if options.spellingVariants {
            SpellingVariants.stripUmlauts(&word)
        }
    }

    /// True when the bytes between two words are exactly one hyphen (`-`, U+2010 or U+2011).
    private static func isHyphen(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Bool {
        switch to - from {
        case 1: return bytes[from] == UInt8(ascii: "-")
        case 3: return bytes[from] == 0xE2 && bytes[from + 1] == 0x80 && (bytes[from + 2] == 0x90 || bytes[from + 2] == 0x91)
        default: return false
        }
    }
}
