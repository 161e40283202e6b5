/*
 * replay - run a fuzz target without libFuzzer.
 *
 * Feeds every file of the given directories (or files) to
 * LLVMFuzzerTestOneInput, then a fixed number of deterministic mutations of
 * each (bytes flipped, cut, duplicated, junk inserted), so a gcc build runs
 * each parser on hostile input too. Under ASan/UBSan a fault aborts the run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MUTATIONS_PER_SEED = 20000, LARGEST_INPUT = 1 << 20 };

static uint64_t random_state = 0x9e3779b97f4a7c15u;

static uint32_t
next_random(void)
{
	/* xorshift64*: deterministic, so a failure can be replayed. */
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return (uint32_t)((random_state * 2685821657736338717u) >> 32);
}

static const char *const interesting[] = {
	"$", "${", "$(", "}", "{", "\n ", "\n#", "=", " -o ", "\\", "\0", "\r\n",
	"${a?{b}:{c}}", "$$", "\t", "-", "inet", "unix", ":", "[::1]:25",
};

static size_t
mutate(uint8_t *buffer, size_t size, size_t capacity)
{
	unsigned rounds = 1 + next_random() % 4;

	for (unsigned round = 0; round < rounds; round++) {
		size_t position = size ? next_random() % size : 0;

		switch (next_random() % 5) {
		case 0:
			if (size)
				buffer[position] ^= (uint8_t)(1u << (next_random() % 8));
			break;
		case 1:
			size = position;
			break;
		case 2:
			if (size)
				buffer[position] = (uint8_t)next_random();
			break;
		case 3: {
			const char *text = interesting[next_random() %
						       (sizeof(interesting) / sizeof(*interesting))];
			size_t length = strlen(text) ? strlen(text) : 1;

			if (size + length <= capacity) {
				memmove(buffer + position + length, buffer + position, size - position);
				memcpy(buffer + position, text, length);
				size += length;
			}
			break;
		}
		default: {
			size_t length = size - position;

			if (size + length <= capacity) {
				memcpy(buffer + size, buffer + position, length);
				size += length;
			}
			break;
		}
		}
	}
	return size;
}

static unsigned runs;

static void
run_file(const char *path)
{
	static uint8_t seed[LARGEST_INPUT], work[LARGEST_INPUT];
	FILE *file = fopen(path, "rb");
	size_t size;

	if (file == NULL) {
		perror(path);
		exit(1);
	}
	size = fread(seed, 1, sizeof(seed), file);
	fclose(file);
	LLVMFuzzerTestOneInput(seed, size);
	runs++;
	for (unsigned i = 0; i < MUTATIONS_PER_SEED; i++) {
		size_t length = size;

		memcpy(work, seed, size);
		length = mutate(work, length, sizeof(work));
		LLVMFuzzerTestOneInput(work, length);
		runs++;
	}
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat info;
		DIR *directory;
		struct dirent *entry;

		if (stat(argv[i], &info) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(info.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		directory = opendir(argv[i]);
		while (directory != NULL && (entry = readdir(directory)) != NULL) {
			char path[4096];

			if (entry->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], entry->d_name);
			run_file(path);
		}
		if (directory != NULL)
			closedir(directory);
	}
	printf("replayed %u inputs\n", runs);
	return runs > 0 ? 0 : 1;
}
