;; The FastCDC gear-hash loop of fastcdc.ts as WebAssembly: the same 32-bit
;; arithmetic, about twice as fast as the JavaScript loop, because each byte
;; costs no bounds checks and no number conversions.
;;
;; Memory (given by the caller, who decides its size): the gear table (256
;; little-endian u32) at 0, the bytes to scan anywhere after it (the backup
;; reads its blocks straight into this memory, so nothing is copied).
;; The embedded bytes in gear-scan.ts are this text assembled; a test checks.
(module
  (import "chatsafe" "memory" (memory 1))
  ;; The hash after the last byte scanned, for a chunk that goes on past `end`.
  (global $h (export "h") (mut i32) (i32.const 0))
  ;; Scans [start, end) from hash `h`; returns the index just past the first
  ;; byte after which (h & mask) == 0, or -1 if there is none before `end`.
  (func (export "scan") (param $i i32) (param $end i32) (param $mask i32) (param $h i32) (result i32)
    (block $out
      (loop $next
        (br_if $out (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $h
          (i32.add
            (i32.shl (local.get $h) (i32.const 1))
            (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.and (local.get $h) (local.get $mask)))
        (global.set $h (i32.const 0))
        (return (local.get $i))))
    (global.set $h (local.get $h))
    (i32.const -1))
)
