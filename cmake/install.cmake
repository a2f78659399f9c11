# Installs the library, its headers, the CMake package `distkit` (target
# distkit::distkit) and, when built, the distkit command-line tool.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DISTKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/distkit)

install(TARGETS distkit EXPORT distkitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/distkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT distkitTargets NAMESPACE distkit:: DESTINATION ${DISTKIT_CMAKE_DIR})

configure_package_config_file(cmake/distkitConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/distkitConfig.cmake
                              INSTALL_DESTINATION ${DISTKIT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/distkitConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/distkitConfig.cmake
              ${PROJECT_BINARY_DIR}/distkitConfigVersion.cmake
        DESTINATION ${DISTKIT_CMAKE_DIR})

if(TARGET distkit_cli)
  install(TARGETS distkit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
