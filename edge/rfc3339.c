/* stub */ typedef int stub_placeholder;
