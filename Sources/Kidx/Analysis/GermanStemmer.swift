import CStemmer

/// Snowball's German stemmer (libstemmer), plus a rule Snowball lacks: the genitive or plural
/// `-s` after a vowel (`Nordkoreas` → `nordkorea`, `Autos` → `auto`), which Snowball keeps.
///
/// Holds a libstemmer instance, which is stateful: use one per thread.
final class GermanStemmer {
    private let stemmer: OpaquePointer

    init() {
        guard let stemmer = sb_stemmer_new("german", "UTF_8") else {
            fatalError("libstemmer has no German stemmer; is libstemmer installed?")
        }
        self.stemmer = stemmer
    }

    deinit { sb_stemmer_delete(stemmer) }

    /// Stems a case-folded UTF-8 word in place.
    func stem(_ word: inout [UInt8]) {
        let count = word.count
        guard count > 2 else { return }
        let stemmed = word.withUnsafeBufferPointer { sb_stemmer_stem(stemmer, $0.baseAddress, Int32(count)) }
        guard let stemmed else { return }
        let length = Int(sb_stemmer_length(stemmer))
        word.removeAll(keepingCapacity: true)
        word.append(contentsOf: UnsafeBufferPointer(start: stemmed, count: length))
        Self.dropVowelS(&word)
    }

    /// `Chinas`, `Handys`, `Kinos`: an `s` after `a`, `i`, `o` or `y` ends a genitive or plural in
    /// German news far more often than it ends a stem. (`-us` is left alone: `Virus`, `Status`.)
    static func dropVowelS(_ word: inout [UInt8]) {
        let count = word.count
        guard count >= 5, word[count - 1] == UInt8(ascii: "s") else { return }
        switch word[count - 2] {
        case UInt8(ascii: "a"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "y"):
            word.removeLast()
        default:
            break
        }
    }
}

/// A light German stemmer after Savoy (2006), as used by Lucene's German analyzer: it removes
/// inflection endings only (`-ern`, `-em`, `-en`, `-er`, `-es`, `-e`, `-s`, then `-est`, `-er`,
/// `-en`, `-st`), never derivation, so it conflates less than Snowball and leaves names alone.
/// Works on folded words; umlauts are removed first so that plural umlauts meet (`Ämter` → `amt`).
enum GermanLightStemmer {
    private static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
    private static let sEndings = Set(ascii("bdfghklmnrt"))
    private static let stEndings = Set(ascii("bdfghklmnt"))

    static func stem(_ word: inout [UInt8]) {
        SpellingVariants.stripUmlauts(&word)
        guard word.allSatisfy({ $0 < 0x80 }) else { return }
        var length = word.count
        func ends(_ suffix: String) -> Bool {
            let bytes = ascii(suffix)
            return length >= bytes.count && word[(length - bytes.count)..<length].elementsEqual(bytes)
        }
        if length > 5 && ends("ern") {
            length -= 3
        } else if length > 4 && (ends("em") || ends("en") || ends("er") || ends("es")) {
            length -= 2
        } else if length > 3 && ends("e") {
            length -= 1
        } else if length > 3 && ends("s") && sEndings.contains(word[length - 2]) {
            length -= 1
        }
        if length > 5 && ends("est") {
            length -= 3
        } else if length > 4 && (ends("er") || ends("en")) {
            length -= 2
        } else if length > 4 && ends("st") && stEndings.contains(word[length - 3]) {
            length -= 2
        }
        word.removeLast(word.count - length)
        GermanStemmer.dropVowelS(&word)
    }
}
