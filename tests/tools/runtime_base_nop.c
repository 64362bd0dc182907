/* The entrypoint of tests/tools/runtime_base.py: no libc, no startup code, one syscall,
 * exit_group(0). Everything else its container process does is the container runtime's.
 * gcc -static -nostdlib -O2 -o nop runtime_base_nop.c */
void _start(void)
{
	__asm__ volatile("mov $231, %eax\n\txor %edi, %edi\n\tsyscall\n\thlt");
	__builtin_unreachable();
}
