/* tiny - the smallest program to exec: a static binary that exits at once. */
int main(void)
{
	return 0;
}
