/*
 * bcryptprimitives.dll for Wine releases that lack it (before 9.0). Go programs and
 * libraries since Go 1.22 read random bytes with its ProcessPrng, which every Windows
 * since 10 has; this stand-in draws them from bcrypt's system RNG, which Wine has.
 * Only the wine tests install it, into their own Wine prefix.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
			return FALSE;
		}
		data += n;
		len -= n;
	}
	return TRUE;
}
