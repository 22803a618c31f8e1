/* stub */ typedef int stub_placeholder;
int main(void) { return 0; }
