import Foundation

/// Numbers the distinct words of a field as the writer meets them, without a heap allocation or
/// a `String` per token: the words' bytes live in one arena, found through an open-addressing
/// table keyed by a multiplicative hash of the bytes.
struct WordInterner {
    /// Every word's bytes, one after the other; word `n` spans `starts[n]..<starts[n + 1]`.
    private var arena: [UInt8] = []
    private var starts: [Int32] = [0]
    /// By hash slot: a word's hash in the high half and its number plus one in the low half;
    /// 0 for an empty slot. With the hash beside the number, a probe that meets another word
    /// reads nothing else. The count is a power of two.
    private var slots = [UInt64](repeating: 0, count: 1 << 12)

    /// How many distinct words there are.
    var count: Int { starts.count - 1 }

    /// The number of `word`, adding it when new.
    mutating func intern(_ word: UnsafeBufferPointer<UInt8>) -> (id: Int, isNew: Bool) {
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash, matches(Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, word) {
                return (Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, false)
            }
            slot = (slot + 1) & mask
        }
        let id = count
        slots[slot] = UInt64(hash) << 32 | UInt64(id + 1)
        arena.append(contentsOf: word)
        starts.append(Int32(arena.count))
        if count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The number of `word`, or nil when it was never interned.
    func id(of word: String) -> Int? {
        var word = word
        return word.withUTF8 { id(of: $0) }
    }

    /// The number of the word of these bytes, or nil when it was never interned.
    func id(of word: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash, matches(Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, word) {
                return Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            }
            slot = (slot + 1) & mask
        }
    }

    /// Word number `id` as a string.
    func word(_ id: Int) -> String {
        arena.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[Int(starts[id])..<Int(starts[id + 1])]), as: UTF8.self) }
    }

    private func matches(_ id: Int, _ word: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(starts[id]), end = Int(starts[id + 1])
        guard end - start == word.count else { return false }
        return arena.withUnsafeBufferPointer { arena in
            word.isEmpty || memcmp(arena.baseAddress! + start, word.baseAddress!, word.count) == 0
        }
    }

    private mutating func grow() {
        var larger = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        for entry in slots where entry != 0 {
            var slot = Int(truncatingIfNeeded: entry >> 32) & mask
            while larger[slot] != 0 { slot = (slot + 1) & mask }
            larger[slot] = entry
        }
        slots = larger
    }

    /// FNV-1a over the bytes, with a final mix so the low bits (the slot) depend on every byte.
    private static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in word { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= hash >> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}
