# Included by smtpd/CMakeLists.txt: the access-control unit tests
# (tests/unit/test_smtpd_check*.c, made by the unit-test glob in
# tests/CMakeLists.txt, which is added before smtpd/) also need smtpd's
# own library.
file(GLOB smtpd_check_tests RELATIVE ${CMAKE_SOURCE_DIR}/tests/unit
	${CMAKE_SOURCE_DIR}/tests/unit/test_smtpd_check*.c)
foreach(source ${smtpd_check_tests})
	get_filename_component(name ${source} NAME_WE)
	if(TARGET ${name})
		target_link_libraries(${name} PRIVATE hikyaku_smtpd)
	endif()
endforeach()

# A driver for the DNS-dependent restrictions (tests/cmd/smtpd_check_dns.sh).
add_executable(smtpd_check_probe ${CMAKE_SOURCE_DIR}/tests/cmd/support/smtpd_check_probe.c)
target_link_libraries(smtpd_check_probe PRIVATE hikyaku_smtpd)
